//! The case service's mail outbox: rows committed with the case event that asks for the
//! email, relayed to notify-svc by `crate::mail`.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::CaseError;

/// An email to queue: a template for a user, with its macro values.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: String,
    pub template_code: String,
    pub recipient_user_id: String,
    pub macro_values: Vec<(String, String)>,
    pub created_at: i64,
}

/// A queued email as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub template_code: String,
    pub recipient_user_id: String,
    pub macro_values: String,
    pub attempts: i64,
}

impl Store {
    pub(super) async fn queue_mail(conn: &mut AnyConnection, mail: &OutboxMail) -> Result<(), CaseError> {
        let values: serde_json::Map<String, serde_json::Value> =
            mail.macro_values.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        sqlx::query(
            "INSERT INTO case_mail_outbox (id, template_code, recipient_user_id, macro_values, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&mail.id)
        .bind(&mail.template_code)
        .bind(&mail.recipient_user_id)
        .bind(serde_json::Value::Object(values).to_string())
        .bind(mail.created_at)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Rows due for relaying at wall-clock `now`.
    pub async fn due_mail(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, CaseError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, template_code, recipient_user_id, macro_values, attempts FROM case_mail_outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT {limit}"
        )))
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Claims a row until `lease_until`; false when another relay took it.
    pub async fn claim_mail(&self, row: &OutboxRow, now: i64, lease_until: i64) -> Result<bool, CaseError> {
        let done = sqlx::query(
            "UPDATE case_mail_outbox SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(lease_until)
        .bind(&row.id)
        .bind(now)
        .execute(&self.db.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn mail_sent(&self, id: &str, now: i64) -> Result<(), CaseError> {
        sqlx::query("UPDATE case_mail_outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }

    /// Records a failed attempt; `retry_at` `None` gives the row up.
    pub async fn mail_failed(&self, id: &str, error: &str, retry_at: Option<i64>, now: i64) -> Result<(), CaseError> {
        sqlx::query(
            "UPDATE case_mail_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, \
             sent_at = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(retry_at.unwrap_or(now))
        .bind(if retry_at.is_none() { Some(now) } else { None })
        .bind(id)
        .execute(&self.db.writer)
        .await?;
        Ok(())
    }
}
