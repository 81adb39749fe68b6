//! Identity's mail outbox: emails asked for by a change, committed with it, and relayed
//! to notify-svc by `crate::mail_outbox::Relay`.

use std::collections::BTreeMap;

use service_kit::{clock::Millis, secrets};
use sqlx::AnyConnection;

use super::Store;
use crate::domain::IdentityError;

/// An email to queue.
#[derive(Debug, Clone)]
pub struct OutgoingEmail<'a> {
    pub recipient_email: &'a str,
    pub recipient_name: &'a str,
    pub culture: &'a str,
    pub template_code: &'a str,
    pub macro_values: BTreeMap<&'static str, String>,
}

/// An outbox row waiting for the relay.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub culture: String,
    pub template_code: String,
    pub macro_values: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
}

impl Store {
    /// Queues an email in the caller's transaction; returns the row id.
    pub async fn queue_email(
        connection: &mut AnyConnection,
        email: &OutgoingEmail<'_>,
        now: Millis,
    ) -> Result<String, IdentityError> {
        let id = secrets::new_id();
        let macro_values =
            serde_json::to_string(&email.macro_values).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO mail_outbox (id, recipient_email, recipient_name, culture, template_code, macro_values, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(email.recipient_email)
        .bind(email.recipient_name)
        .bind(email.culture)
        .bind(email.template_code)
        .bind(macro_values)
        .bind(now)
        .execute(connection)
        .await?;
        Ok(id)
    }

    /// Up to `limit` rows due at wall-clock instant `now`, oldest first.
    pub async fn due_emails(&self, now: Millis, limit: i64) -> Result<Vec<OutboxRow>, IdentityError> {
        Ok(sqlx::query_as(
            "SELECT id, recipient_email, recipient_name, culture, template_code, macro_values, attempts, \
             next_attempt_at FROM mail_outbox WHERE relayed_at IS NULL AND failed_at IS NULL \
             AND next_attempt_at <= $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Takes a due row for one attempt by moving its next attempt to `lease_until`; false
    /// when another relay took it first.
    pub async fn claim_email(&self, row: &OutboxRow, lease_until: Millis) -> Result<bool, IdentityError> {
        let claimed = sqlx::query(
            "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1 WHERE id = $2 \
             AND next_attempt_at = $3 AND relayed_at IS NULL AND failed_at IS NULL",
        )
        .bind(lease_until)
        .bind(&row.id)
        .bind(row.next_attempt_at)
        .execute(&self.db.writer)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Records that notify queued the email; the macro values (links) are forgotten.
    pub async fn email_relayed(&self, id: &str, delivery_id: &str, now: Millis) -> Result<(), IdentityError> {
        sqlx::query(
            "UPDATE mail_outbox SET relayed_at = $1, delivery_id = $2, macro_values = '{}', last_error = '' \
             WHERE id = $3",
        )
        .bind(now)
        .bind(delivery_id)
        .bind(id)
        .execute(&self.db.writer)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: try again at `retry_at`, or give up when it is `None`.
    pub async fn email_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> Result<(), IdentityError> {
        let query = match retry_at {
            Some(at) => sqlx::query("UPDATE mail_outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(error)
                .bind(at),
            None => {
                sqlx::query("UPDATE mail_outbox SET last_error = $1, failed_at = $2, macro_values = '{}' WHERE id = $3")
                    .bind(error)
                    .bind(now)
            }
        };
        query.bind(id).execute(&self.db.writer).await?;
        Ok(())
    }
}
