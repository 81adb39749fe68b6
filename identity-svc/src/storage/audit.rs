//! The audit log: one row per change, written in the change's own transaction.

use service_kit::{Caller, CallerKind, clock::Millis, secrets};
use sqlx::AnyConnection;

use super::Store;
use crate::domain::IdentityError;

/// A change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: &'a Caller,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub organization_id: &'a str,
    pub before_json: String,
    pub after_json: String,
    pub request_id: &'a str,
}

/// A recorded change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: String,
    pub occurred_at: Millis,
    pub actor_kind: String,
    pub actor_user_id: String,
    pub actor_session_id: String,
    pub actor_service: String,
    pub source: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub organization_id: String,
    pub before_json: String,
    pub after_json: String,
    pub request_id: String,
}

/// Filters of the audit listing; empty strings and `None` match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_user_id: String,
    pub resource_type: String,
    pub resource_id: String,
    pub action: String,
    pub organization_id: String,
    pub from: Option<Millis>,
    pub until: Option<Millis>,
    /// Keyset position: events strictly after (time, id).
    pub after: Option<(Millis, String)>,
}

fn actor_kind(caller: &Caller) -> &'static str {
    match caller.kind {
        CallerKind::Employee | CallerKind::External => "user",
        CallerKind::Anonymous => "anonymous",
        CallerKind::Service => "service",
    }
}

impl Store {
    pub async fn record_audit(
        connection: &mut AnyConnection,
        entry: AuditEntry<'_>,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO audit_events (id, occurred_at, actor_kind, actor_user_id, actor_session_id, actor_service, \
             source, action, resource_type, resource_id, organization_id, before_json, after_json, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 'identity', $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(secrets::new_id())
        .bind(now)
        .bind(actor_kind(entry.actor))
        .bind(&entry.actor.user_id)
        .bind(&entry.actor.session_id)
        .bind(&entry.actor.service)
        .bind(entry.action)
        .bind(entry.resource_type)
        .bind(entry.resource_id)
        .bind(entry.organization_id)
        .bind(entry.before_json)
        .bind(entry.after_json)
        .bind(entry.request_id)
        .execute(connection)
        .await?;
        Ok(())
    }

    pub async fn audit_event(&self, id: &str) -> Result<Option<AuditRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM audit_events WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Up to `limit` events matching `filter`, oldest first.
    pub async fn audit_events(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditRecord>, IdentityError> {
        let (after_time, after_id) = filter.after.clone().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(
            "SELECT * FROM audit_events WHERE ($1 = '' OR actor_user_id = $1) AND ($2 = '' OR resource_type = $2) \
             AND ($3 = '' OR resource_id = $3) AND ($4 = '' OR action = $4) AND ($5 = '' OR organization_id = $5) \
             AND occurred_at >= $6 AND occurred_at < $7 AND (occurred_at > $8 OR (occurred_at = $8 AND id > $9)) \
             ORDER BY occurred_at, id LIMIT $10",
        )
        .bind(&filter.actor_user_id)
        .bind(&filter.resource_type)
        .bind(&filter.resource_id)
        .bind(&filter.action)
        .bind(&filter.organization_id)
        .bind(filter.from.unwrap_or(i64::MIN))
        .bind(filter.until.unwrap_or(i64::MAX))
        .bind(after_time)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
