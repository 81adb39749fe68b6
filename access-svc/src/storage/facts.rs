//! The reads of a permission check: everything about one object (or one record, or one
//! system operation) that reaches a subject, in a handful of indexed queries.

use sqlx::{AssertSqlSafe, Row};

use super::{Store, flag, grantee_of, placeholders};
use crate::domain::{
    AccessError, ColumnLevel, Effect, Operation, Rights,
    evaluate::{
        ColumnGrantFact, EffectGrant, ObjectFacts, OperationGrantFact, PortalObjectFact, RecordFacts, RecordGrantFact,
    },
    priority::RolePriorities,
};

/// A registered record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredRecord {
    pub object_code: String,
    pub record_id: String,
    pub author_user_id: String,
    pub organization_id: String,
}

impl Store {
    /// Level 1, 2 and 4 facts of an object for a subject with grantee `keys`.
    pub async fn object_facts(&self, object_key: &str, keys: &[String]) -> Result<ObjectFacts, AccessError> {
        let pool = &self.db.pool;
        let object = sqlx::query("SELECT id, record_permissions_enabled FROM portal_objects WHERE object_key = $1")
            .bind(object_key)
            .fetch_optional(pool)
            .await?
            .map(|row| {
                Ok::<_, AccessError>(PortalObjectFact {
                    id: row.try_get("id")?,
                    record_permissions_enabled: flag(&row, "record_permissions_enabled")?,
                })
            })
            .transpose()?;
        let read_only_section_id =
            sqlx::query("SELECT id FROM sections WHERE primary_object_key = $1 AND read_only = 1")
                .bind(object_key)
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get::<String, _>("id"))
                .transpose()?;
        let in_keys = placeholders(2, keys.len());
        let sql = format!(
            "SELECT id, grantee_kind, grantee_id, operation, effect, priority FROM operation_grants \
             WHERE object_key = $1 AND grantee_key IN ({in_keys}) ORDER BY id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(object_key);
        for key in keys {
            query = query.bind(key);
        }
        let operation_grants = query
            .fetch_all(pool)
            .await?
            .iter()
            .filter_map(|row| {
                let operation = Operation::from_i32(row.try_get::<i16, _>("operation").ok()?.into())?;
                let grant = effect_grant(row).ok()?;
                Some(OperationGrantFact { operation, grant })
            })
            .collect();
        let sql = format!(
            "SELECT id, grantee_kind, grantee_id, column_code, level, priority FROM column_grants \
             WHERE object_key = $1 AND grantee_key IN ({in_keys}) ORDER BY id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(object_key);
        for key in keys {
            query = query.bind(key);
        }
        let column_grants = query
            .fetch_all(pool)
            .await?
            .iter()
            .filter_map(|row| {
                Some(ColumnGrantFact {
                    id: row.try_get("id").ok()?,
                    grantee: grantee_of(row, "grantee").ok()?,
                    column_code: row.try_get("column_code").ok()?,
                    level: ColumnLevel::from_i32(row.try_get::<i16, _>("level").ok()?.into())?,
                    priority: row.try_get("priority").ok()?,
                })
            })
            .collect();
        let role_priorities = self.role_priorities(keys).await?;
        Ok(ObjectFacts { object, read_only_section_id, operation_grants, column_grants, role_priorities })
    }

    /// The explicit priorities of the roles among `keys`.
    pub async fn role_priorities(&self, keys: &[String]) -> Result<RolePriorities, AccessError> {
        let sql = format!(
            "SELECT grantee_key, priority FROM role_priorities WHERE grantee_key IN ({})",
            placeholders(1, keys.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for key in keys {
            query = query.bind(key);
        }
        let rows = query.fetch_all(&self.db.pool).await?;
        rows.iter().map(|row| Ok((row.try_get("grantee_key")?, row.try_get("priority")?))).collect()
    }

    /// A registered record, if any.
    pub async fn record(&self, object_key: &str, record_id: &str) -> Result<Option<RegisteredRecord>, AccessError> {
        let row = sqlx::query(
            "SELECT object_code, record_id, author_user_id, organization_id FROM records \
             WHERE object_key = $1 AND record_id = $2",
        )
        .bind(object_key)
        .bind(record_id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|row| {
            Ok(RegisteredRecord {
                object_code: row.try_get("object_code")?,
                record_id: row.try_get("record_id")?,
                author_user_id: row.try_get("author_user_id")?,
                organization_id: row.try_get("organization_id")?,
            })
        })
        .transpose()
    }

    /// Level 3 facts of a record for a subject with grantee `keys`.
    pub async fn record_facts(
        &self,
        object_key: &str,
        record_id: &str,
        keys: &[String],
    ) -> Result<RecordFacts, AccessError> {
        let Some(record) = self.record(object_key, record_id).await? else {
            return Ok(RecordFacts::Unregistered);
        };
        let sql = format!(
            "SELECT id, grantee_kind, grantee_id, can_read, can_edit, can_delete FROM record_grants \
             WHERE object_key = $1 AND record_id = $2 AND grantee_key IN ({}) ORDER BY id",
            placeholders(3, keys.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(object_key).bind(record_id);
        for key in keys {
            query = query.bind(key);
        }
        let grants = query
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RecordGrantFact {
                    id: row.try_get("id")?,
                    grantee: grantee_of(row, "grantee")?,
                    rights: rights_of(row)?,
                })
            })
            .collect::<Result<_, AccessError>>()?;
        Ok(RecordFacts::Registered { author_user_id: record.author_user_id, grants })
    }

    /// The grants of a system operation that reach a subject with grantee `keys`, and the
    /// priorities of their roles; `None` when the operation is not in the catalog.
    pub async fn system_operation_facts(
        &self,
        code: &str,
        keys: &[String],
    ) -> Result<Option<(Vec<EffectGrant>, RolePriorities)>, AccessError> {
        if !self.system_operation_exists(code).await? {
            return Ok(None);
        }
        let sql = format!(
            "SELECT id, grantee_kind, grantee_id, effect, priority FROM system_operation_grants \
             WHERE operation_code = $1 AND grantee_key IN ({}) ORDER BY id",
            placeholders(2, keys.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(code);
        for key in keys {
            query = query.bind(key);
        }
        let grants = query.fetch_all(&self.db.pool).await?.iter().map(effect_grant).collect::<Result<_, _>>()?;
        Ok(Some((grants, self.role_priorities(keys).await?)))
    }

    pub async fn system_operation_exists(&self, code: &str) -> Result<bool, AccessError> {
        Ok(sqlx::query("SELECT code FROM system_operations WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.db.pool)
            .await?
            .is_some())
    }
}

fn effect_grant(row: &sqlx::any::AnyRow) -> Result<EffectGrant, AccessError> {
    let effect = Effect::from_i32(row.try_get::<i16, _>("effect")?.into())
        .ok_or_else(|| AccessError::Unavailable("a stored grant has an unknown effect".into()))?;
    Ok(EffectGrant {
        id: row.try_get("id")?,
        grantee: grantee_of(row, "grantee")?,
        effect,
        priority: row.try_get("priority")?,
    })
}

/// The rights stored in `can_read`, `can_edit`, `can_delete`.
pub fn rights_of(row: &sqlx::any::AnyRow) -> Result<Rights, AccessError> {
    Ok(Rights { read: flag(row, "can_read")?, edit: flag(row, "can_edit")?, delete: flag(row, "can_delete")? })
}
