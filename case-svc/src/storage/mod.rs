//! case-svc's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

pub mod agreements;
pub mod attachments;
pub mod calendars;
pub mod cases;
pub mod catalog;
pub mod folders;
pub mod grant_order;
pub mod knowledge;
pub mod knowledge_search;
pub mod messages;
pub mod outbox;
pub mod settings;

use service_kit::{ApiError, db::Database};
use sqlx::AnyConnection;

use crate::domain::CaseError;

pub use agreements::AgreementRecord;
pub use calendars::CalendarRecord;
pub use cases::{CaseRecord, HistoryRecord};
pub use catalog::ServiceRecord;
pub use messages::MessageRecord;
pub use settings::SettingsRecord;

/// The database of cases, the catalog, calendars, agreements and settings (the
/// knowledge base has its own store in `knowledge`).
#[derive(Debug, Clone)]
pub struct Store {
    pub db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The resource a retried create (same caller, kind and request id) already made.
    pub async fn created_before(
        &self,
        caller_id: &str,
        kind: &str,
        request_id: &str,
    ) -> Result<Option<String>, CaseError> {
        if request_id.is_empty() {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(
            "SELECT resource_id FROM create_requests WHERE caller_id = $1 AND kind = $2 AND request_id = $3",
        )
        .bind(caller_id)
        .bind(kind)
        .bind(request_id)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Replaces a parent's rows in a link table (`parent_column`, `child_column`) with
    /// one row per distinct child, in the caller's transaction.
    pub async fn replace_links(
        conn: &mut AnyConnection,
        table: &'static str,
        parent_column: &'static str,
        child_column: &'static str,
        parent_id: &str,
        children: &[&str],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {parent_column} = $1")))
            .bind(parent_id)
            .execute(&mut *conn)
            .await?;
        let insert =
            format!("INSERT INTO {table} ({parent_column}, {child_column}) VALUES ($1, $2) ON CONFLICT DO NOTHING");
        for child in children {
            sqlx::query(sqlx::AssertSqlSafe(insert.clone())).bind(parent_id).bind(child).execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Remembers what a create with a request id made, in the create's transaction. A
    /// parallel call with the same request id that got there first is ABORTED: retried,
    /// the call finds that call's resource.
    pub async fn remember_create(
        conn: &mut AnyConnection,
        caller_id: &str,
        kind: &str,
        request_id: &str,
        resource_id: &str,
        now: i64,
    ) -> Result<(), CaseError> {
        match Self::claim_create(conn, caller_id, kind, request_id, resource_id, now).await? {
            None => Ok(()),
            Some(_) => Err(CaseError::Api(ApiError::Aborted {
                reason: "REQUEST_IN_PROGRESS",
                message: "a parallel call with this request_id made the resource; retry to get it".into(),
            })),
        }
    }

    /// Claims `request_id` for `resource_id` in the create's transaction; returns the
    /// resource of the call that claimed it first, if another did. On PostgreSQL the insert
    /// waits for a parallel claim's transaction; on SQLite transactions run one at a time.
    pub async fn claim_create(
        conn: &mut AnyConnection,
        caller_id: &str,
        kind: &str,
        request_id: &str,
        resource_id: &str,
        now: i64,
    ) -> Result<Option<String>, CaseError> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let claimed = sqlx::query(
            "INSERT INTO create_requests (caller_id, request_id, kind, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(caller_id)
        .bind(request_id)
        .bind(kind)
        .bind(resource_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(None);
        }
        Ok(Some(
            sqlx::query_scalar(
                "SELECT resource_id FROM create_requests WHERE caller_id = $1 AND kind = $2 AND request_id = $3",
            )
            .bind(caller_id)
            .bind(kind)
            .bind(request_id)
            .fetch_one(conn)
            .await?,
        ))
    }
}

/// True when an error is a unique-constraint violation.
pub fn is_unique_violation(error: &CaseError) -> bool {
    match error {
        CaseError::Api(service_kit::ApiError::Internal { detail }) => {
            detail.contains("UNIQUE") || detail.contains("unique") || detail.contains("duplicate key")
        }
        _ => false,
    }
}
