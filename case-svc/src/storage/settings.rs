//! The case settings row (created from the configuration's defaults on first read).

use super::Store;
use crate::domain::CaseError;

/// The settings as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRecord {
    pub number_prefix: String,
    pub number_width: i32,
    pub max_attachment_bytes: i64,
    pub sla_warning_percent: i32,
    pub default_calendar_id: Option<String>,
    pub version: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "number_prefix, number_width, max_attachment_bytes, sla_warning_percent, default_calendar_id, version, updated_at";

impl Store {
    /// The settings; `defaults` are stored first when none are. Read from a reader: the
    /// writer is taken only on the first read.
    pub async fn settings(&self, defaults: &SettingsRecord) -> Result<SettingsRecord, CaseError> {
        let select =
            || sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM case_settings WHERE id = 1")));
        if let Some(settings) = select().fetch_optional(&self.db.pool).await? {
            return Ok(settings);
        }
        sqlx::query(
            "INSERT INTO case_settings (id, number_prefix, number_width, max_attachment_bytes, sla_warning_percent, \
             default_calendar_id, version, updated_at) VALUES (1, $1, $2, $3, $4, $5, 1, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&defaults.number_prefix)
        .bind(defaults.number_width)
        .bind(defaults.max_attachment_bytes)
        .bind(defaults.sla_warning_percent)
        .bind(&defaults.default_calendar_id)
        .bind(defaults.updated_at)
        .execute(&self.db.writer)
        .await?;
        Ok(select().fetch_one(&self.db.pool).await?)
    }

    pub async fn update_settings(&self, settings: &SettingsRecord, expected_version: i64) -> Result<bool, CaseError> {
        let done = sqlx::query(
            "UPDATE case_settings SET number_prefix = $1, number_width = $2, max_attachment_bytes = $3, \
             sla_warning_percent = $4, default_calendar_id = $5, version = version + 1, updated_at = $6 \
             WHERE id = 1 AND version = $7",
        )
        .bind(&settings.number_prefix)
        .bind(settings.number_width)
        .bind(settings.max_attachment_bytes)
        .bind(settings.sla_warning_percent)
        .bind(&settings.default_calendar_id)
        .bind(settings.updated_at)
        .bind(expected_version)
        .execute(&self.db.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
