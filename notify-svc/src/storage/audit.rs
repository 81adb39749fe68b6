//! Audit events of notify's changes (who, what, when, before/after), written in the
//! same transaction as the change.

use service_kit::{clock::Millis, secrets};
use sqlx::{Any, Transaction};

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
