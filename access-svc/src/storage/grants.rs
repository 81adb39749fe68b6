//! The prioritised grants (object operation, column, system operation), role priorities
//! and default record rules. The three grant tables share one row shape and one set of
//! statements, parameterised by [`GrantKind`].

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use super::{Store, Tx, facts::rights_of, grantee_of};
use crate::domain::{AccessError, Grantee, Rights, object_key};

/// Which grant table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GrantKind {
    Operation,
    Column,
    SystemOperation,
}

impl GrantKind {
    fn table(self) -> &'static str {
        match self {
            Self::Operation => "operation_grants",
            Self::Column => "column_grants",
            Self::SystemOperation => "system_operation_grants",
        }
    }

    /// The column naming what the grant is about.
    fn code_column(self) -> &'static str {
        match self {
            Self::Operation | Self::Column => "object_code",
            Self::SystemOperation => "operation_code",
        }
    }

    /// The column holding the decision (effect or level).
    fn value_column(self) -> &'static str {
        match self {
            Self::Column => "level",
            Self::Operation | Self::SystemOperation => "effect",
        }
    }

    /// The selected columns, aliased to the shared row shape.
    fn select(self) -> String {
        let detail = match self {
            Self::Operation => "operation AS detail_number, '' AS detail_text",
            Self::Column => "CAST(0 AS SMALLINT) AS detail_number, column_code AS detail_text",
            Self::SystemOperation => "CAST(0 AS SMALLINT) AS detail_number, '' AS detail_text",
        };
        format!(
            "SELECT id, {code} AS code, {detail}, grantee_kind, grantee_id, {value} AS value, priority, version, \
             created_at, updated_at, sort_key FROM {table}",
            code = self.code_column(),
            value = self.value_column(),
            table = self.table()
        )
    }

    pub fn resource(self) -> &'static str {
        match self {
            Self::Operation => "object operation grant",
            Self::Column => "column grant",
            Self::SystemOperation => "system operation grant",
        }
    }
}

/// One stored grant of any of the three kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    pub id: String,
    pub kind: GrantKind,
    /// The object code (operation and column grants) or the system operation code.
    pub code: String,
    /// The operation (operation grants; 0 otherwise).
    pub operation: i16,
    /// The column code (column grants; empty otherwise).
    pub column_code: String,
    pub grantee: Grantee,
    /// The effect (operation and system operation grants) or the column level.
    pub value: i16,
    pub priority: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GrantRow {
    fn sort_key(&self) -> String {
        let code = match self.kind {
            GrantKind::SystemOperation => self.code.clone(),
            GrantKind::Operation | GrantKind::Column => object_key(&self.code),
        };
        format!("{code}/{}/{}/{}", self.operation, self.column_code, self.id)
    }
}

fn grant_of(kind: GrantKind, row: &sqlx::any::AnyRow) -> Result<GrantRow, AccessError> {
    Ok(GrantRow {
        id: row.try_get("id")?,
        kind,
        code: row.try_get("code")?,
        operation: row.try_get("detail_number")?,
        column_code: row.try_get("detail_text")?,
        grantee: grantee_of(row, "grantee")?,
        value: row.try_get("value")?,
        priority: row.try_get("priority")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Filters of a grant list; empty strings and 0 match everything.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub code: String,
    pub operation: i16,
    pub column_code: String,
    pub grantee_key: String,
}

pub async fn insert_grant(tx: &mut Tx, grant: &GrantRow) -> Result<(), AccessError> {
    let kind = grant.kind;
    let (extra_columns, extra_values) = match kind {
        GrantKind::Operation => (", object_key, operation", ", $12, $13"),
        GrantKind::Column => (", object_key, column_code", ", $12, $13"),
        GrantKind::SystemOperation => ("", ""),
    };
    let sql = format!(
        "INSERT INTO {table} (id, {code}, grantee_kind, grantee_id, grantee_key, {value}, priority, sort_key, version, \
         created_at, updated_at{extra_columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11{extra_values})",
        table = kind.table(),
        code = kind.code_column(),
        value = kind.value_column(),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(&grant.id)
        .bind(&grant.code)
        .bind(grant.grantee.kind.as_str())
        .bind(&grant.grantee.id)
        .bind(grant.grantee.key())
        .bind(grant.value)
        .bind(grant.priority)
        .bind(grant.sort_key())
        .bind(grant.version)
        .bind(grant.created_at)
        .bind(grant.updated_at);
    match kind {
        GrantKind::Operation => query = query.bind(object_key(&grant.code)).bind(grant.operation),
        GrantKind::Column => query = query.bind(object_key(&grant.code)).bind(&grant.column_code),
        GrantKind::SystemOperation => {}
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Stores a grant's new value and priority (its version already advanced).
pub async fn update_grant(tx: &mut Tx, grant: &GrantRow) -> Result<(), AccessError> {
    let sql = format!(
        "UPDATE {} SET {} = $2, priority = $3, version = $4, updated_at = $5 WHERE id = $1",
        grant.kind.table(),
        grant.kind.value_column()
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&grant.id)
        .bind(grant.value)
        .bind(grant.priority)
        .bind(grant.version)
        .bind(grant.updated_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_grant(tx: &mut Tx, kind: GrantKind, id: &str) -> Result<(), AccessError> {
    sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE id = $1", kind.table())))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One grant, read in a change's transaction.
pub async fn grant_in(tx: &mut Tx, kind: GrantKind, id: &str) -> Result<Option<GrantRow>, AccessError> {
    let sql = format!("{} WHERE id = $1", kind.select());
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    row.map(|row| grant_of(kind, &row)).transpose()
}

/// Every grant of one kind made to a grantee key (for RemoveGrantee).
pub async fn grants_to(tx: &mut Tx, kind: GrantKind, grantee_key: &str) -> Result<Vec<GrantRow>, AccessError> {
    let sql = format!("{} WHERE grantee_key = $1", kind.select());
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(grantee_key).fetch_all(&mut **tx).await?;
    rows.iter().map(|row| grant_of(kind, row)).collect()
}

impl Store {
    pub async fn grant(&self, kind: GrantKind, id: &str) -> Result<Option<GrantRow>, AccessError> {
        let sql = format!("{} WHERE id = $1", kind.select());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?;
        row.map(|row| grant_of(kind, &row)).transpose()
    }

    /// A page of grants in list order after the sort key `after`.
    pub async fn list_grants(
        &self,
        kind: GrantKind,
        filter: &GrantFilter,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, GrantRow)>, AccessError> {
        let (code_filter, code_value) = match kind {
            GrantKind::SystemOperation => ("operation_code", filter.code.clone()),
            GrantKind::Operation | GrantKind::Column => ("object_key", object_key(&filter.code)),
        };
        let operation_filter = if kind == GrantKind::Operation { "($3 = 0 OR operation = $3)" } else { "$3 = $3" };
        let column_filter = if kind == GrantKind::Column { "($4 = '' OR column_code = $4)" } else { "$4 = $4" };
        let sql = format!(
            "{} WHERE ($1 = '' OR {code_filter} = $1) AND ($2 = '' OR grantee_key = $2) AND {operation_filter} \
             AND {column_filter} AND sort_key > $5 ORDER BY sort_key LIMIT $6",
            kind.select()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(code_value)
            .bind(&filter.grantee_key)
            .bind(filter.operation)
            .bind(&filter.column_code)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, grant_of(kind, row)?))).collect()
    }
}

/// A role's explicit priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolePriorityRow {
    pub id: String,
    pub role: Grantee,
    pub priority: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Highest priority first.
fn priority_sort_key(priority: i64, id: &str) -> String {
    format!("{:08}/{id}", crate::domain::MAX_PRIORITY - priority)
}

fn role_priority_of(row: &sqlx::any::AnyRow) -> Result<RolePriorityRow, AccessError> {
    Ok(RolePriorityRow {
        id: row.try_get("id")?,
        role: grantee_of(row, "grantee")?,
        priority: row.try_get("priority")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const PRIORITY_SELECT: &str =
    "SELECT id, grantee_kind, grantee_id, priority, version, created_at, updated_at, sort_key FROM role_priorities";

pub async fn upsert_role_priority(tx: &mut Tx, row: &RolePriorityRow, insert: bool) -> Result<(), AccessError> {
    let sql = if insert {
        "INSERT INTO role_priorities (id, grantee_kind, grantee_id, grantee_key, priority, sort_key, version, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    } else {
        "UPDATE role_priorities SET priority = $5, sort_key = $6, version = $7, updated_at = $9 \
         WHERE id = $1 AND grantee_kind = $2 AND grantee_id = $3 AND grantee_key = $4 AND created_at = $8"
    };
    sqlx::query(sql)
        .bind(&row.id)
        .bind(row.role.kind.as_str())
        .bind(&row.role.id)
        .bind(row.role.key())
        .bind(row.priority)
        .bind(priority_sort_key(row.priority, &row.id))
        .bind(row.version)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_role_priority(tx: &mut Tx, id: &str) -> Result<(), AccessError> {
    sqlx::query("DELETE FROM role_priorities WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

pub async fn role_priority_in(tx: &mut Tx, id: &str, by_key: bool) -> Result<Option<RolePriorityRow>, AccessError> {
    let column = if by_key { "grantee_key" } else { "id" };
    let row = sqlx::query(AssertSqlSafe(format!("{PRIORITY_SELECT} WHERE {column} = $1")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(role_priority_of).transpose()
}

impl Store {
    pub async fn role_priority(&self, id: &str) -> Result<Option<RolePriorityRow>, AccessError> {
        let row = sqlx::query(AssertSqlSafe(format!("{PRIORITY_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(role_priority_of).transpose()
    }

    pub async fn list_role_priorities(
        &self,
        grantee_key: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, RolePriorityRow)>, AccessError> {
        let sql = format!(
            "{PRIORITY_SELECT} WHERE ($1 = '' OR grantee_key = $1) AND sort_key > $2 ORDER BY sort_key LIMIT $3"
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(grantee_key).bind(after).bind(limit).fetch_all(&self.db.pool).await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, role_priority_of(row)?))).collect()
    }
}

/// A default record rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRow {
    pub id: String,
    pub object_code: String,
    pub author: Grantee,
    /// `None` for "the author's organization".
    pub target: Option<Grantee>,
    pub rights: Rights,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RuleRow {
    pub fn target_key(&self) -> String {
        self.target.as_ref().map_or_else(|| "author-organization".to_owned(), Grantee::key)
    }
}

const RULE_SELECT: &str = "SELECT id, object_code, author_kind, author_id, target_kind, target_grantee_kind, \
                           target_grantee_id, can_read, can_edit, can_delete, version, created_at, updated_at, sort_key \
                           FROM default_record_rules";

fn rule_of(row: &sqlx::any::AnyRow) -> Result<RuleRow, AccessError> {
    let target_kind: String = row.try_get("target_kind")?;
    Ok(RuleRow {
        id: row.try_get("id")?,
        object_code: row.try_get("object_code")?,
        author: grantee_of(row, "author")?,
        target: if target_kind == "grantee" { Some(grantee_of(row, "target_grantee")?) } else { None },
        rights: rights_of(row)?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_rule(tx: &mut Tx, rule: &RuleRow) -> Result<(), AccessError> {
    let (target_kind, target_grantee_kind, target_grantee_id) = match &rule.target {
        Some(grantee) => ("grantee", grantee.kind.as_str(), grantee.id.as_str()),
        None => ("author_organization", "", ""),
    };
    sqlx::query(
        "INSERT INTO default_record_rules (id, object_code, object_key, author_kind, author_id, author_key, target_kind, \
         target_grantee_kind, target_grantee_id, target_key, can_read, can_edit, can_delete, sort_key, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&rule.id)
    .bind(&rule.object_code)
    .bind(object_key(&rule.object_code))
    .bind(rule.author.kind.as_str())
    .bind(&rule.author.id)
    .bind(rule.author.key())
    .bind(target_kind)
    .bind(target_grantee_kind)
    .bind(target_grantee_id)
    .bind(rule.target_key())
    .bind(i16::from(rule.rights.read))
    .bind(i16::from(rule.rights.edit))
    .bind(i16::from(rule.rights.delete))
    .bind(format!("{}/{:020}/{}", object_key(&rule.object_code), rule.created_at, rule.id))
    .bind(rule.version)
    .bind(rule.created_at)
    .bind(rule.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_rule(tx: &mut Tx, rule: &RuleRow) -> Result<(), AccessError> {
    sqlx::query(
        "UPDATE default_record_rules SET can_read = $2, can_edit = $3, can_delete = $4, version = $5, updated_at = $6 \
         WHERE id = $1",
    )
    .bind(&rule.id)
    .bind(i16::from(rule.rights.read))
    .bind(i16::from(rule.rights.edit))
    .bind(i16::from(rule.rights.delete))
    .bind(rule.version)
    .bind(rule.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_rule(tx: &mut Tx, id: &str) -> Result<(), AccessError> {
    sqlx::query("DELETE FROM default_record_rules WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

pub async fn rule_in(tx: &mut Tx, id: &str) -> Result<Option<RuleRow>, AccessError> {
    let row =
        sqlx::query(AssertSqlSafe(format!("{RULE_SELECT} WHERE id = $1"))).bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(rule_of).transpose()
}

/// Rules naming a grantee key as author or target (for RemoveGrantee).
pub async fn rules_naming(tx: &mut Tx, key: &str) -> Result<Vec<RuleRow>, AccessError> {
    let rows = sqlx::query(AssertSqlSafe(format!("{RULE_SELECT} WHERE author_key = $1 OR target_key = $1")))
        .bind(key)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(rule_of).collect()
}

impl Store {
    pub async fn rule(&self, id: &str) -> Result<Option<RuleRow>, AccessError> {
        let row = sqlx::query(AssertSqlSafe(format!("{RULE_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(rule_of).transpose()
    }

    pub async fn list_rules(
        &self,
        object_code: &str,
        author_key: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, RuleRow)>, AccessError> {
        let sql = format!(
            "{RULE_SELECT} WHERE ($1 = '' OR object_key = $1) AND ($2 = '' OR author_key = $2) AND sort_key > $3 \
             ORDER BY sort_key LIMIT $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(object_key(object_code))
            .bind(author_key)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, rule_of(row)?))).collect()
    }
}
