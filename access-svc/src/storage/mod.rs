//! access-svc storage (sqlx `Any`, portable SQL): the rows behind every level of the
//! check, the record grant change feed, audit events and create idempotency. Helpers
//! shared by every table (grantee columns, etags, keyset pages, IN lists, audit) live
//! here once.

pub mod catalog;
pub mod facts;
pub mod grants;
pub mod records;

use serde::Serialize;
use service_kit::db::{Database, Migrations};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use crate::domain::{AccessError, Grantee, GranteeKind};

/// Migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// The access database.
#[derive(Debug, Clone)]
pub struct Store {
    pub db: Database,
}

pub type Tx = Transaction<'static, Any>;

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn begin(&self) -> Result<Tx, AccessError> {
        Ok(self.db.begin().await?)
    }
}

/// `$start, $start+1, …` for an IN list of `count` values (portable: no `= ANY`).
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// The grantee stored in `<prefix>_kind` / `<prefix>_id` columns.
pub fn grantee_of(row: &AnyRow, prefix: &str) -> Result<Grantee, AccessError> {
    let kind: String = row.try_get(format!("{prefix}_kind").as_str())?;
    let id: String = row.try_get(format!("{prefix}_id").as_str())?;
    let kind = GranteeKind::parse(&kind).ok_or_else(|| AccessError::Unavailable(format!("bad grantee kind {kind}")))?;
    Ok(Grantee { kind, id })
}

/// The etag of a row version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Refuses a write whose etag (when given) is not the row's current one.
pub fn check_etag(given: &str, version: i64, what: &'static str) -> Result<(), AccessError> {
    if given.is_empty() || given == etag(version) { Ok(()) } else { Err(AccessError::Stale(what)) }
}

/// Writes one audit event (who, what, when, before/after) in the change's transaction.
pub async fn audit<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    resource_type: &str,
    resource_id: &str,
    before: Option<&B>,
    after: Option<&A>,
    now: i64,
) -> Result<(), AccessError> {
    let json = |value: Option<String>| value.unwrap_or_else(|| "null".to_owned());
    let before = json(before.and_then(|b| serde_json::to_string(b).ok()));
    let after = json(after.and_then(|a| serde_json::to_string(a).ok()));
    sqlx::query(
        "INSERT INTO audit_events (id, occurred_at, actor, action, resource_type, resource_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(service_kit::secrets::new_id())
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(resource_type)
    .bind(resource_id)
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One audited change, as read back by tests and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub before_json: String,
    pub after_json: String,
}

impl Store {
    /// The audit events of one resource, oldest first.
    pub async fn audit_events(&self, resource_type: &str, resource_id: &str) -> Result<Vec<AuditEvent>, AccessError> {
        let rows = sqlx::query(
            "SELECT actor, action, resource_type, resource_id, before_json, after_json FROM audit_events \
             WHERE resource_type = $1 AND resource_id = $2 ORDER BY occurred_at, id",
        )
        .bind(resource_type)
        .bind(resource_id)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    resource_type: row.try_get("resource_type")?,
                    resource_id: row.try_get("resource_id")?,
                    before_json: row.try_get("before_json")?,
                    after_json: row.try_get("after_json")?,
                })
            })
            .collect()
    }

    /// The resource a create with this request_id made earlier, if any.
    pub async fn created_by_request(
        &self,
        resource_type: &str,
        actor: &str,
        request_id: &str,
    ) -> Result<Option<String>, AccessError> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT resource_id FROM create_requests WHERE resource_type = $1 AND actor = $2 AND request_id = $3",
        )
        .bind(resource_type)
        .bind(actor)
        .bind(request_id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|r| r.try_get("resource_id")).transpose()?)
    }
}

/// Remembers the resource a create made for its request_id, in the create's transaction.
pub async fn remember_request(
    tx: &mut Tx,
    resource_type: &str,
    actor: &str,
    request_id: &str,
    resource_id: &str,
    now: i64,
) -> Result<(), AccessError> {
    if request_id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO create_requests (resource_type, actor, request_id, resource_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(resource_type)
    .bind(actor)
    .bind(request_id)
    .bind(resource_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A flag column (SMALLINT 0/1).
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, AccessError> {
    Ok(row.try_get::<i16, _>(column)? != 0)
}

/// True for a unique-constraint violation (a concurrent duplicate).
pub fn is_unique_violation(error: &AccessError) -> bool {
    matches!(error, AccessError::Storage(service_kit::db::DbError::Sql(sqlx::Error::Database(e))) if e.is_unique_violation())
}
