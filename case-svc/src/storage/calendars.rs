//! Calendars' rows; the weekly hours and holidays are one JSON definition.

use serde::{Deserialize, Serialize};

use super::Store;
use crate::domain::CaseError;

/// A calendar as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CalendarRecord {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub time_zone: String,
    pub definition: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The stored form of weekly hours and holidays.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CalendarDefinition {
    /// Periods per weekday, Monday first: `[start_minute, end_minute]` pairs.
    pub weekly: [Vec<(i32, i32)>; 7],
    /// Holidays sorted by date.
    pub holidays: Vec<StoredHoliday>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredHoliday {
    pub date: String,
    pub name: String,
    pub periods: Vec<(i32, i32)>,
}

impl Store {
    pub async fn calendar(&self, id: &str) -> Result<Option<CalendarRecord>, CaseError> {
        Ok(sqlx::query_as("SELECT * FROM calendars WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn insert_calendar(
        &self,
        calendar: &CalendarRecord,
        caller_id: &str,
        request_id: &str,
    ) -> Result<(), CaseError> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO calendars (id, name, name_key, time_zone, definition, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&calendar.id)
        .bind(&calendar.name)
        .bind(&calendar.name_key)
        .bind(&calendar.time_zone)
        .bind(&calendar.definition)
        .bind(calendar.version)
        .bind(calendar.created_at)
        .bind(calendar.updated_at)
        .execute(&mut *tx)
        .await?;
        Store::remember_create(&mut tx, caller_id, "calendar", request_id, &calendar.id, calendar.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_calendar(&self, calendar: &CalendarRecord, expected_version: i64) -> Result<bool, CaseError> {
        let done = sqlx::query(
            "UPDATE calendars SET name = $1, name_key = $2, time_zone = $3, definition = $4, version = version + 1, \
             updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(&calendar.name)
        .bind(&calendar.name_key)
        .bind(&calendar.time_zone)
        .bind(&calendar.definition)
        .bind(calendar.updated_at)
        .bind(&calendar.id)
        .bind(expected_version)
        .execute(&self.db.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether an agreement or the settings name the calendar.
    pub async fn calendar_in_use(&self, id: &str) -> Result<bool, CaseError> {
        let used: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM service_agreements WHERE calendar_id = $1 \
             UNION ALL SELECT 1 FROM case_settings WHERE default_calendar_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(used.is_some())
    }

    pub async fn delete_calendar(&self, id: &str, expected_version: Option<i64>) -> Result<bool, CaseError> {
        let done = sqlx::query("DELETE FROM calendars WHERE id = $1 AND ($2 < 0 OR version = $2)")
            .bind(id)
            .bind(expected_version.unwrap_or(-1))
            .execute(&self.db.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A page of calendars ordered by name key, then id.
    pub async fn list_calendars(
        &self,
        name_contains: &str,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<CalendarRecord>, CaseError> {
        let pattern = format!("%{}%", super::catalog::like_escape(&name_contains.to_lowercase()));
        let (key, id) = after.unwrap_or_default();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM calendars WHERE name_key LIKE $1 ESCAPE '\\' \
             AND (name_key > $2 OR (name_key = $2 AND id > $3)) ORDER BY name_key, id LIMIT {limit}"
        )))
        .bind(pattern)
        .bind(key)
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
