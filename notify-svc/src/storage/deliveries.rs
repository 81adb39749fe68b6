//! The outbox: deliveries, their claims by workers, and the outcome of each attempt.
//!
//! A worker claims due deliveries by setting them SENDING with a fresh claim token and
//! a lease (`due_at` = end of the lease). On PostgreSQL concurrent claims skip each
//! other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, so the
//! single UPDATE … RETURNING is the claim. A result is recorded only under the claim
//! token that is still current, so a worker whose lease expired and was taken over
//! cannot overwrite the newer attempt's outcome. A claim whose lease expires (its
//! worker crashed) is due again and another worker takes it.

use service_kit::{clock::Millis, db::Backend};
use sqlx::AssertSqlSafe;

use super::{AuditEntry, Placeholders, Store};
use crate::domain::{NotifyError, delivery::DeliveryState};

/// A delivery as listed (without its bodies, which carry one-time links).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeliveryRow {
    pub id: String,
    pub idempotency_key: String,
    pub template_code: String,
    pub culture: String,
    pub template_culture: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub from_address: String,
    pub subject: String,
    pub message_id: String,
    pub state: i16,
    pub attempts: i64,
    pub due_at: Option<Millis>,
    pub last_error: String,
    pub last_smtp_code: i64,
    pub created_at: Millis,
    pub delivered_at: Option<Millis>,
    pub dead_lettered_at: Option<Millis>,
    pub updated_at: Millis,
}

impl DeliveryRow {
    pub fn state(&self) -> DeliveryState {
        DeliveryState::from_stored(self.state)
    }
}

const COLUMNS: &str = "id, idempotency_key, template_code, culture, template_culture, recipient_email, \
     recipient_name, from_address, subject, message_id, state, attempts, due_at, last_error, last_smtp_code, \
     created_at, delivered_at, dead_lettered_at, updated_at";

/// A delivery a worker claimed, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub attempts: i64,
    pub window_start: Millis,
    pub claim_token: String,
}

/// A rendered email to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: String,
    pub idempotency_key: String,
    pub template_code: String,
    pub culture: String,
    pub template_culture: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
}

/// Which deliveries to list, newest first, after a `(created_at, id)` cursor.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub recipient_email: Option<String>,
    pub state: Option<DeliveryState>,
    pub template_code: Option<String>,
    pub before: Option<(Millis, String)>,
    pub limit: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered,
    RetryAt { at: Millis, error: String, code: u16 },
    DeadLettered { error: String, code: u16 },
}

impl Store {
    /// Queues a delivery, or returns the one queued before under the same idempotency
    /// key; the flag is true when this call queued it.
    pub async fn enqueue(&self, new: &NewDelivery, now: Millis) -> Result<(DeliveryRow, bool), NotifyError> {
        let sql = format!(
            "INSERT INTO deliveries (id, idempotency_key, template_code, culture, template_culture, recipient_email, \
             recipient_key, recipient_name, from_address, subject, body_text, body_html, message_id, state, attempts, \
             due_at, last_error, last_smtp_code, window_start, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, $11, $12, 1, 0, $13, '', 0, $13, $13, $13) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING {COLUMNS}"
        );
        let inserted: Option<DeliveryRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&new.id)
            .bind(&new.idempotency_key)
            .bind(&new.template_code)
            .bind(&new.culture)
            .bind(&new.template_culture)
            .bind(&new.recipient_email)
            .bind(crate::domain::email::key(&new.recipient_email))
            .bind(&new.recipient_name)
            .bind(&new.subject)
            .bind(&new.body_text)
            .bind(&new.body_html)
            .bind(&new.message_id)
            .bind(now)
            .fetch_optional(&self.db.writer)
            .await?;
        if let Some(row) = inserted {
            return Ok((row, true));
        }
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE idempotency_key = $1");
        let existing: DeliveryRow =
            sqlx::query_as(AssertSqlSafe(sql)).bind(&new.idempotency_key).fetch_one(&self.db.pool).await?;
        Ok((existing, false))
    }

    /// The delivery queued under an idempotency key.
    pub async fn delivery_by_key(&self, key: &str) -> Result<Option<DeliveryRow>, NotifyError> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE idempotency_key = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(key).fetch_optional(&self.db.pool).await?)
    }

    pub async fn delivery(&self, id: &str) -> Result<Option<DeliveryRow>, NotifyError> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRow>, NotifyError> {
        let mut p = Placeholders(0);
        let mut conditions = Vec::new();
        let mut texts: Vec<(String, String)> = Vec::new();
        if let Some(email) = &filter.recipient_email {
            let n = p.next();
            conditions.push(format!("recipient_key = {n}"));
            texts.push((n, crate::domain::email::key(email)));
        }
        if let Some(code) = &filter.template_code {
            let n = p.next();
            conditions.push(format!("template_code = {n}"));
            texts.push((n, code.clone()));
        }
        let mut sql = String::new();
        let state_n = filter.state.map(|_| p.next());
        if let Some(n) = &state_n {
            conditions.push(format!("state = {n}"));
        }
        let before_n = filter.before.as_ref().map(|_| (p.next(), p.next(), p.next()));
        if let Some((a, b, c)) = &before_n {
            conditions.push(format!("(created_at < {a} OR (created_at = {b} AND id < {c}))"));
        }
        let limit_n = p.next();
        sql.push_str(&format!("SELECT {COLUMNS} FROM deliveries"));
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit_n}"));
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for (_, value) in texts {
            query = query.bind(value);
        }
        if let Some(state) = filter.state {
            query = query.bind(state.stored());
        }
        if let Some((created_at, id)) = &filter.before {
            query = query.bind(*created_at).bind(*created_at).bind(id.clone());
        }
        Ok(query.bind(filter.limit).fetch_all(&self.db.pool).await?)
    }

    /// Claims up to `limit` due deliveries for one attempt each, until `lease_until`.
    pub async fn claim(
        &self,
        token: &str,
        now: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<Claimed>, NotifyError> {
        let lock = match self.db.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE deliveries SET state = 2, attempts = attempts + 1, claim_token = $1, due_at = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM deliveries WHERE due_at IS NOT NULL AND due_at <= $3 \
                          ORDER BY due_at LIMIT $4{lock}) \
               AND due_at IS NOT NULL AND due_at <= $3 \
             RETURNING id, recipient_email, recipient_name, subject, body_text, body_html, message_id, attempts, \
                       window_start, claim_token"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(token)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.db.writer)
            .await?)
    }

    /// Records how an attempt under `claim` ended; false when the claim is no longer
    /// current (its lease expired and another worker took the delivery over).
    pub async fn record(
        &self,
        claim: &Claimed,
        from_address: &str,
        outcome: &Outcome,
        now: Millis,
    ) -> Result<bool, NotifyError> {
        // A delivered message keeps the error of the attempt before it, if any.
        let (state, due_at, error, delivered_at, dead_at) = match outcome {
            Outcome::Delivered => (DeliveryState::Delivered, None, None, Some(now), None),
            Outcome::RetryAt { at, error, code } => {
                (DeliveryState::Retrying, Some(*at), Some((error, *code)), None, None)
            }
            Outcome::DeadLettered { error, code } => {
                (DeliveryState::DeadLettered, None, Some((error, *code)), None, Some(now))
            }
        };
        let error_sql = if error.is_some() { "last_error = $9, last_smtp_code = $10," } else { "" };
        let sql = format!(
            "UPDATE deliveries SET {error_sql} state = $1, due_at = $2, delivered_at = $3, dead_lettered_at = $4, \
             from_address = $5, claim_token = NULL, updated_at = $6 \
             WHERE id = $7 AND claim_token = $8 AND state = 2"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(state.stored())
            .bind(due_at)
            .bind(delivered_at)
            .bind(dead_at)
            .bind(from_address)
            .bind(now)
            .bind(&claim.id)
            .bind(&claim.claim_token);
        if let Some((error, code)) = error {
            query = query.bind(error.as_str()).bind(code as i64);
        }
        let updated = query.execute(&self.db.writer).await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Hands a claimed delivery back unsent, due `now` and without counting the attempt,
    /// so that the next worker sends it at once instead of waiting out the lease; false
    /// when the claim is no longer current.
    pub async fn release(&self, claim: &Claimed, now: Millis) -> Result<bool, NotifyError> {
        let released = sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN attempts > 1 THEN 4 ELSE 1 END, attempts = attempts - 1, \
             due_at = $1, claim_token = NULL, updated_at = $1 WHERE id = $2 AND claim_token = $3 AND state = 2",
        )
        .bind(now)
        .bind(&claim.id)
        .bind(&claim.claim_token)
        .execute(&self.db.writer)
        .await?;
        Ok(released.rows_affected() == 1)
    }

    /// Queues a dead-lettered delivery again, now, with a new retry window.
    pub async fn requeue_dead_letter(
        &self,
        before: &DeliveryRow,
        actor: &str,
        now: Millis,
    ) -> Result<Option<DeliveryRow>, NotifyError> {
        let mut tx = self.db.begin().await?;
        let sql = format!(
            "UPDATE deliveries SET state = 1, due_at = $1, window_start = $1, dead_lettered_at = NULL, \
             claim_token = NULL, updated_at = $1 WHERE id = $2 AND state = 5 RETURNING {COLUMNS}"
        );
        let row: Option<DeliveryRow> =
            sqlx::query_as(AssertSqlSafe(sql)).bind(now).bind(&before.id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        AuditEntry {
            actor_user_id: actor,
            action: "delivery.retry",
            resource_type: "delivery",
            resource_id: &row.id,
            before: serde_json::to_value(before).unwrap_or_default(),
            after: serde_json::to_value(&row).unwrap_or_default(),
        }
        .write(&mut tx, now)
        .await?;
        tx.commit().await?;
        Ok(Some(row))
    }
}
