//! Audit events of notify's changes (who, what, when, before/after), written in the
//! same transaction as the change, and read back for EmailAuditService.

use service_kit::{clock::Millis, secrets};
use sqlx::{Any, AssertSqlSafe, Transaction};

use crate::domain::NotifyError;

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor_user_id: &'a str,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

impl AuditEntry<'_> {
    pub(super) async fn write(&self, tx: &mut Transaction<'_, Any>, now: Millis) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_events (id, occurred_at, actor_user_id, action, resource_type, resource_id, before_json, after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(secrets::new_id())
        .bind(now)
        .bind(self.actor_user_id)
        .bind(self.action)
        .bind(self.resource_type)
        .bind(self.resource_id)
        .bind(self.before.to_string())
        .bind(self.after.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// One recorded change, as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: Millis,
    pub actor_user_id: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub before_json: String,
    pub after_json: String,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub actor_user_id: Option<String>,
    /// Events strictly before this `(occurred_at, id)`.
    pub before: Option<(Millis, String)>,
    pub limit: i64,
}

impl super::Store {
    /// A page of audit events, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, NotifyError> {
        let mut p = super::Placeholders(0);
        let mut conditions = Vec::new();
        let mut texts = Vec::new();
        for (column, value) in [
            ("resource_type", &filter.resource_type),
            ("resource_id", &filter.resource_id),
            ("actor_user_id", &filter.actor_user_id),
        ] {
            if let Some(value) = value {
                conditions.push(format!("{column} = {}", p.next()));
                texts.push(value.clone());
            }
        }
        if filter.before.is_some() {
            let (a, b, c) = (p.next(), p.next(), p.next());
            conditions.push(format!("(occurred_at < {a} OR (occurred_at = {b} AND id < {c}))"));
        }
        let mut sql = String::from(
            "SELECT id, occurred_at, actor_user_id, action, resource_type, resource_id, before_json, after_json \
             FROM audit_events",
        );
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY occurred_at DESC, id DESC LIMIT {}", p.next()));
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for value in texts {
            query = query.bind(value);
        }
        if let Some((occurred_at, id)) = &filter.before {
            query = query.bind(*occurred_at).bind(*occurred_at).bind(id.clone());
        }
        Ok(query.bind(filter.limit).fetch_all(&self.db.pool).await?)
    }
}
