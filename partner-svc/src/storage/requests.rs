//! Idempotent creates: which resource a caller's `request_id` created (within 24 hours).

use service_kit::clock::Millis;

use super::{Store, Tx};
use crate::domain::PartnerError;

/// How long a request_id is remembered.
const REMEMBERED_MS: Millis = 24 * 3600 * 1000;

impl Store {
    /// The resource an earlier create with this request_id made, if recent.
    pub async fn created_by_request(
        &self,
        caller_id: &str,
        kind: &str,
        request_id: &str,
        now: Millis,
    ) -> Result<Option<String>, PartnerError> {
        if request_id.is_empty() {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(
            "SELECT resource_id FROM create_requests \
             WHERE caller_id = $1 AND kind = $2 AND request_id = $3 AND created_at > $4",
        )
        .bind(caller_id)
        .bind(kind)
        .bind(request_id)
        .bind(now - REMEMBERED_MS)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Remembers what a create made, in its transaction; a concurrent create with the
    /// same request_id makes this fail, so only one of them commits.
    pub async fn remember_request(
        tx: &mut Tx,
        caller_id: &str,
        kind: &str,
        request_id: &str,
        resource_id: &str,
        now: Millis,
    ) -> Result<(), PartnerError> {
        if request_id.is_empty() {
            return Ok(());
        }
        let done = sqlx::query(
            "INSERT INTO create_requests (caller_id, kind, request_id, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (caller_id, kind, request_id) DO UPDATE \
             SET resource_id = excluded.resource_id, created_at = excluded.created_at \
             WHERE create_requests.created_at <= $6",
        )
        .bind(caller_id)
        .bind(kind)
        .bind(request_id)
        .bind(resource_id)
        .bind(now)
        .bind(now - REMEMBERED_MS)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::AlreadyExists(
                "REQUEST_IN_PROGRESS",
                "a create with this request_id is being made; retry to get its result".into(),
            ));
        }
        Ok(())
    }
}
