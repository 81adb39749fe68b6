//! One storage for every lookup table. Each table has the common columns of
//! [`LookupRow`] and columns of its own, which its record type lists through
//! [`LookupTable`]; reads, keyset lists, inserts, etag-checked updates and protected
//! deletes are written once here.

use service_kit::clock::Millis;
use sqlx::{AssertSqlSafe, any::AnyRow};

use super::{Store, Tx, after_clause, is_unique_violation};
use crate::domain::{PartnerError, lookup};

/// A value of a column, bound as a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Int(i64),
}

/// The columns every lookup table has.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LookupRow {
    pub id: String,
    pub description: String,
    pub base: i16,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl LookupRow {
    pub fn is_base(&self) -> bool {
        self.base != 0
    }

    pub fn etag(&self) -> String {
        lookup::etag(self.version)
    }
}

/// A lookup table as the generic storage sees it.
pub trait LookupTable: for<'r> sqlx::FromRow<'r, AnyRow> + Clone + Send + Sync + Unpin + 'static {
    /// The table's name.
    const TABLE: &'static str;
    /// The resource, as errors name it ("partner type").
    const RESOURCE: &'static str;
    /// A condition, true when other rows or partnerships refer to the row `$1`.
    const IN_USE: &'static str;
    /// What must be unique, for the ALREADY_EXISTS message.
    const UNIQUE: &'static str;

    fn row(&self) -> &LookupRow;
    fn row_mut(&mut self) -> &mut LookupRow;
    /// The table's own columns and their values.
    fn columns(&self) -> Vec<(&'static str, Value)>;
    /// The list order.
    fn sort_key(&self) -> String;
}

/// A partner type.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PartnerTypeRecord {
    #[sqlx(flatten)]
    pub row: LookupRow,
    pub name: String,
}

/// A level of a partner type.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PartnerLevelRecord {
    #[sqlx(flatten)]
    pub row: LookupRow,
    pub partner_type_id: String,
    pub name: String,
    pub target_points: i64,
    pub level_order: i64,
}

/// A parameter category.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ParameterCategoryRecord {
    #[sqlx(flatten)]
    pub row: LookupRow,
    pub name: String,
    pub source: String,
    pub unit: String,
}

/// A parameter type.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ParameterTypeRecord {
    #[sqlx(flatten)]
    pub row: LookupRow,
    pub name: String,
    pub role: String,
}

/// An obligation or benefit of a level.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LevelParameterRecord {
    #[sqlx(flatten)]
    pub row: LookupRow,
    pub partner_level_id: String,
    pub partner_type_id: String,
    pub parameter_category_id: String,
    pub parameter_type_id: String,
    pub target_value: String,
    pub points: i64,
    pub benefit_value: String,
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn named(name: &str) -> Vec<(&'static str, Value)> {
    vec![("name", text(name)), ("name_key", text(&lookup::name_key(name)))]
}

macro_rules! common_row {
    () => {
        fn row(&self) -> &LookupRow {
            &self.row
        }
        fn row_mut(&mut self) -> &mut LookupRow {
            &mut self.row
        }
    };
}

impl LookupTable for PartnerTypeRecord {
    const TABLE: &'static str = "partner_types";
    const RESOURCE: &'static str = "partner type";
    const IN_USE: &'static str = "EXISTS (SELECT 1 FROM partner_levels WHERE partner_type_id = $1) \
         OR EXISTS (SELECT 1 FROM partnerships WHERE partner_type_id = $1)";
    const UNIQUE: &'static str = "its name";
    common_row!();

    fn columns(&self) -> Vec<(&'static str, Value)> {
        named(&self.name)
    }

    fn sort_key(&self) -> String {
        lookup::name_key(&self.name)
    }
}

impl LookupTable for PartnerLevelRecord {
    const TABLE: &'static str = "partner_levels";
    const RESOURCE: &'static str = "partner level";
    const IN_USE: &'static str = "EXISTS (SELECT 1 FROM level_parameters WHERE partner_level_id = $1) \
         OR EXISTS (SELECT 1 FROM partnerships WHERE partner_level_id = $1) \
         OR EXISTS (SELECT 1 FROM promotions WHERE from_level_id = $1 OR to_level_id = $1)";
    const UNIQUE: &'static str = "its name and its order within the partner type";
    common_row!();

    fn columns(&self) -> Vec<(&'static str, Value)> {
        let mut columns = named(&self.name);
        columns.extend([
            ("partner_type_id", text(&self.partner_type_id)),
            ("target_points", Value::Int(self.target_points)),
            ("level_order", Value::Int(self.level_order)),
        ]);
        columns
    }

    fn sort_key(&self) -> String {
        format!("{}/{:010}", self.partner_type_id, self.level_order)
    }
}

impl LookupTable for ParameterCategoryRecord {
    const TABLE: &'static str = "parameter_categories";
    const RESOURCE: &'static str = "parameter category";
    const IN_USE: &'static str = "EXISTS (SELECT 1 FROM level_parameters WHERE parameter_category_id = $1)";
    const UNIQUE: &'static str = "its name";
    common_row!();

    fn columns(&self) -> Vec<(&'static str, Value)> {
        let mut columns = named(&self.name);
        columns.extend([("source", text(&self.source)), ("unit", text(&self.unit))]);
        columns
    }

    fn sort_key(&self) -> String {
        lookup::name_key(&self.name)
    }
}

impl LookupTable for ParameterTypeRecord {
    const TABLE: &'static str = "parameter_types";
    const RESOURCE: &'static str = "parameter type";
    const IN_USE: &'static str = "EXISTS (SELECT 1 FROM level_parameters WHERE parameter_type_id = $1)";
    const UNIQUE: &'static str = "its name";
    common_row!();

    fn columns(&self) -> Vec<(&'static str, Value)> {
        let mut columns = named(&self.name);
        columns.push(("role", text(&self.role)));
        columns
    }

    fn sort_key(&self) -> String {
        lookup::name_key(&self.name)
    }
}

impl LookupTable for LevelParameterRecord {
    const TABLE: &'static str = "level_parameters";
    const RESOURCE: &'static str = "level parameter";
    const IN_USE: &'static str = "1 = 0";
    const UNIQUE: &'static str = "its category and parameter type within the level";
    common_row!();

    fn columns(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("partner_level_id", text(&self.partner_level_id)),
            ("partner_type_id", text(&self.partner_type_id)),
            ("parameter_category_id", text(&self.parameter_category_id)),
            ("parameter_type_id", text(&self.parameter_type_id)),
            ("target_value", text(&self.target_value)),
            ("points", Value::Int(self.points)),
            ("benefit_value", text(&self.benefit_value)),
        ]
    }

    /// Grouped by level, oldest first within it.
    fn sort_key(&self) -> String {
        format!("{}/{:020}", self.partner_level_id, self.row.created_at)
    }
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(int) => query.bind(int),
        };
    }
    query
}

fn conflict<T: LookupTable>(error: sqlx::Error) -> PartnerError {
    if is_unique_violation(&error) {
        PartnerError::AlreadyExists(
            "LOOKUP_EXISTS",
            format!("another {} has the same {}; choose another", T::RESOURCE, T::UNIQUE),
        )
    } else {
        error.into()
    }
}

impl Store {
    /// One row of a lookup table.
    pub async fn lookup<T: LookupTable>(&self, id: &str) -> Result<Option<T>, PartnerError> {
        let sql = format!("SELECT * FROM {} WHERE id = $1", T::TABLE);
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Every row of a lookup table that meets `conditions` (SQL with `{}` standing for
    /// the value's placeholder), in list order.
    pub async fn all_lookups<T: LookupTable>(&self, conditions: &[(&str, Value)]) -> Result<Vec<T>, PartnerError> {
        self.lookups(conditions, None, i64::MAX).await
    }

    /// A page of a lookup table after the keyset position `after` (sort key, id).
    pub async fn lookups<T: LookupTable>(
        &self,
        conditions: &[(&str, Value)],
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<T>, PartnerError> {
        let mut sql = format!("SELECT * FROM {} WHERE 1 = 1", T::TABLE);
        let mut values = Vec::new();
        for (condition, value) in conditions {
            values.push(value.clone());
            sql.push_str(&format!(" AND {}", condition.replace("{}", &format!("${}", values.len()))));
        }
        sql.push_str(&after_clause("sort_key", &after, values.len() + 1));
        if let Some((key, id)) = after {
            values.extend([Value::Text(key), Value::Text(id)]);
        }
        sql.push_str(" ORDER BY sort_key, id");
        if limit < i64::MAX {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), values)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|row| <T as sqlx::FromRow<AnyRow>>::from_row(row))
            .collect::<Result<_, _>>()?)
    }

    /// Inserts a new row (its common columns from `record.row()`).
    pub async fn insert_lookup<T: LookupTable>(tx: &mut Tx, record: &T) -> Result<(), PartnerError> {
        let row = record.row();
        let mut columns = record.columns();
        columns.extend([
            ("id", Value::Text(row.id.clone())),
            ("description", Value::Text(row.description.clone())),
            ("base", Value::Int(i64::from(row.base))),
            ("version", Value::Int(row.version)),
            ("sort_key", Value::Text(record.sort_key())),
            ("created_at", Value::Int(row.created_at)),
            ("updated_at", Value::Int(row.updated_at)),
        ]);
        let names: Vec<_> = columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<_> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!("INSERT INTO {} ({}) VALUES ({})", T::TABLE, names.join(", "), placeholders.join(", "));
        bind_all(sqlx::query(AssertSqlSafe(sql)), columns.into_iter().map(|(_, v)| v).collect())
            .execute(&mut **tx)
            .await
            .map_err(conflict::<T>)?;
        Ok(())
    }

    /// Writes a changed row if it is still at `record.row().version`, and returns it at
    /// its new version; ABORTED when another change came first.
    pub async fn update_lookup<T: LookupTable>(&self, record: &T, now: Millis) -> Result<T, PartnerError> {
        let row = record.row();
        let mut columns = record.columns();
        columns.extend([
            ("description", Value::Text(row.description.clone())),
            ("sort_key", Value::Text(record.sort_key())),
            ("updated_at", Value::Int(now)),
        ]);
        let sets: Vec<_> = columns.iter().enumerate().map(|(i, (name, _))| format!("{name} = ${}", i + 1)).collect();
        let n = columns.len();
        let sql = format!(
            "UPDATE {} SET {}, version = version + 1 WHERE id = ${} AND version = ${}",
            T::TABLE,
            sets.join(", "),
            n + 1,
            n + 2
        );
        let mut values: Vec<_> = columns.into_iter().map(|(_, v)| v).collect();
        values.extend([Value::Text(row.id.clone()), Value::Int(row.version)]);
        let done =
            bind_all(sqlx::query(AssertSqlSafe(sql)), values).execute(&self.db.writer).await.map_err(conflict::<T>)?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale(T::RESOURCE));
        }
        self.lookup(&row.id).await?.ok_or_else(|| PartnerError::NotFound(T::RESOURCE, row.id.clone()))
    }

    /// Whether other rows or partnerships refer to the row `id`.
    async fn in_use<T: LookupTable>(tx: &mut Tx, id: &str) -> Result<bool, PartnerError> {
        let sql = format!("SELECT CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT)", T::IN_USE);
        let in_use: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).bind(id).fetch_one(&mut **tx).await?;
        Ok(in_use != 0)
    }

    /// Whether other rows or partnerships refer to the row `id` now.
    pub async fn lookup_in_use<T: LookupTable>(&self, id: &str) -> Result<bool, PartnerError> {
        let mut tx = self.begin().await?;
        let in_use = Self::in_use::<T>(&mut tx, id).await?;
        tx.commit().await?;
        Ok(in_use)
    }

    /// Deletes a row under the one deletion rule of lookups: a current etag (when
    /// given), never a base row, never a row in use. All checked in one transaction.
    pub async fn delete_lookup<T: LookupTable>(&self, id: &str, etag: &str) -> Result<(), PartnerError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT * FROM {} WHERE id = $1", T::TABLE);
        let record: T = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| PartnerError::NotFound(T::RESOURCE, id.to_owned()))?;
        lookup::check_etag(T::RESOURCE, etag, record.row().version)?;
        let in_use = Self::in_use::<T>(&mut tx, id).await?;
        lookup::check_deletable(T::RESOURCE, id, record.row().is_base(), in_use)?;
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE id = $1 AND version = $2", T::TABLE)))
            .bind(id)
            .bind(record.row().version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
