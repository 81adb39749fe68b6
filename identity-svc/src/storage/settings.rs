//! The settings row, versioned for optimistic concurrency (the etag).

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::Store;
use crate::domain::{IdentityError, settings::Settings};

/// The stored settings and their version (0 when never changed).
#[derive(Debug, Clone)]
pub struct StoredSettings {
    pub settings: Settings,
    pub version: i64,
    pub updated_at: Option<Millis>,
    pub updated_by: String,
}

impl Store {
    pub async fn settings(&self) -> Result<StoredSettings, IdentityError> {
        let row: Option<(String, i64, Millis, String)> =
            sqlx::query_as("SELECT body, version, updated_at, updated_by FROM settings WHERE id = 1")
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(match row {
            None => StoredSettings {
                settings: Settings::default(),
                version: 0,
                updated_at: None,
                updated_by: String::new(),
            },
            Some((body, version, updated_at, updated_by)) => StoredSettings {
                settings: serde_json::from_str(&body).map_err(|e| IdentityError::Corrupt(format!("settings: {e}")))?,
                version,
                updated_at: Some(updated_at),
                updated_by,
            },
        })
    }

    /// Writes the settings if they are still at `expected_version`; `false` when another
    /// change came first (nothing written).
    pub async fn save_settings(
        connection: &mut AnyConnection,
        settings: &Settings,
        expected_version: i64,
        updated_by: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let body = serde_json::to_string(settings).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        let written = sqlx::query(
            "INSERT INTO settings (id, body, version, updated_at, updated_by) VALUES (1, $1, $2 + 1, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, version = excluded.version, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by WHERE settings.version = $2",
        )
        .bind(body)
        .bind(expected_version)
        .bind(now)
        .bind(updated_by)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        Ok(written == 1)
    }
}
