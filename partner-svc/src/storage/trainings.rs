//! Partners' trainings and certifications.

use service_kit::clock::Millis;
use sqlx::AssertSqlSafe;

use super::{Store, Tx, Value};
use crate::domain::{
    PartnerError, dates,
    points::{Activity, Event},
};

/// A training or certification as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TrainingRecord {
    pub id: String,
    pub partner_account_id: String,
    pub contact_id: String,
    pub contact_name: String,
    pub title: String,
    pub kind: String,
    pub completion_date: String,
    pub expiry_date: String,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Typed filters of ListPartnerTrainings.
#[derive(Debug, Clone, Default)]
pub struct TrainingFilter {
    pub partner_account_id: String,
    pub contact_id: String,
    pub kind: String,
    /// Trainings and certifications valid on this date ("YYYY-MM-DD").
    pub valid_on: String,
}

impl TrainingRecord {
    /// Its event for points: a training completed, or a certification held until the end
    /// of its expiry date.
    pub fn event(&self) -> Option<Event> {
        let at = dates::start_of(dates::parse(&self.completion_date).ok()?);
        let activity = if self.kind == "certification" {
            let expires_at = dates::parse(&self.expiry_date).ok().map(dates::end_of);
            Activity::Certification { contact_id: self.contact_id.clone(), expires_at }
        } else {
            Activity::TrainingCompleted
        };
        Some(Event { at, key: format!("training:{}", self.id), activity })
    }
}

impl Store {
    pub async fn training(&self, id: &str) -> Result<Option<TrainingRecord>, PartnerError> {
        Ok(sqlx::query_as("SELECT * FROM partner_trainings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// A page, most recent completion first, after the keyset position (completion date, id).
    pub async fn trainings(
        &self,
        filter: &TrainingFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<TrainingRecord>, PartnerError> {
        let mut sql = String::from("SELECT * FROM partner_trainings WHERE 1 = 1");
        let mut values = Vec::new();
        let mut push = |sql: &mut String, condition: &str, value: &str| {
            values.push(Value::Text(value.to_owned()));
            sql.push_str(&format!(" AND {}", condition.replace("{}", &format!("${}", values.len()))));
        };
        for (condition, value) in [
            ("partner_account_id = {}", &filter.partner_account_id),
            ("contact_id = {}", &filter.contact_id),
            ("kind = {}", &filter.kind),
        ] {
            if !value.is_empty() {
                push(&mut sql, condition, value);
            }
        }
        if !filter.valid_on.is_empty() {
            push(&mut sql, "(kind = 'training' OR expiry_date = '' OR expiry_date >= {})", &filter.valid_on);
        }
        if let Some((date, id)) = after {
            values.extend([Value::Text(date), Value::Text(id)]);
            let n = values.len();
            sql.push_str(&format!(
                " AND (completion_date < ${} OR (completion_date = ${} AND id < ${n}))",
                n - 1,
                n - 1
            ));
        }
        sql.push_str(&format!(" ORDER BY completion_date DESC, id DESC LIMIT {limit}"));
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for value in values {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Int(int) => query.bind(int),
            };
        }
        Ok(query.fetch_all(&self.db.pool).await?)
    }

    /// Every training and certification of a partner (for points and the program).
    pub async fn trainings_of(&self, partner_account_id: &str) -> Result<Vec<TrainingRecord>, PartnerError> {
        let filter = TrainingFilter { partner_account_id: partner_account_id.to_owned(), ..Default::default() };
        self.trainings(&filter, None, 10_000).await
    }

    pub async fn insert_training(tx: &mut Tx, t: &TrainingRecord) -> Result<(), PartnerError> {
        sqlx::query(
            "INSERT INTO partner_trainings (id, partner_account_id, contact_id, contact_name, title, kind, \
             completion_date, expiry_date, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&t.id)
        .bind(&t.partner_account_id)
        .bind(&t.contact_id)
        .bind(&t.contact_name)
        .bind(&t.title)
        .bind(&t.kind)
        .bind(&t.completion_date)
        .bind(&t.expiry_date)
        .bind(t.version)
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Writes a changed record if still at `t.version`; ABORTED otherwise.
    pub async fn update_training(&self, t: &TrainingRecord, now: Millis) -> Result<(), PartnerError> {
        let done = sqlx::query(
            "UPDATE partner_trainings SET contact_id = $1, contact_name = $2, title = $3, kind = $4, \
             completion_date = $5, expiry_date = $6, version = version + 1, updated_at = $7 \
             WHERE id = $8 AND version = $9",
        )
        .bind(&t.contact_id)
        .bind(&t.contact_name)
        .bind(&t.title)
        .bind(&t.kind)
        .bind(&t.completion_date)
        .bind(&t.expiry_date)
        .bind(now)
        .bind(&t.id)
        .bind(t.version)
        .execute(&self.db.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("partner training"));
        }
        Ok(())
    }

    pub async fn delete_training(&self, id: &str, version: i64) -> Result<(), PartnerError> {
        let done = sqlx::query("DELETE FROM partner_trainings WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&self.db.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(PartnerError::Stale("partner training"));
        }
        Ok(())
    }
}
