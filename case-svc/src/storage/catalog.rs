//! The service catalog's rows.

use super::Store;
use crate::domain::CaseError;

/// A service as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRecord {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: String,
    pub category: String,
    pub response_time_minutes: i64,
    pub resolution_time_minutes: i64,
    pub active: i16,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Filters of a service list.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub categories: Vec<String>,
    pub include_inactive: bool,
    pub name_contains: String,
    pub after: Option<(String, String)>,
    pub limit: i64,
}

impl Store {
    pub async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, CaseError> {
        Ok(sqlx::query_as("SELECT * FROM services WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Whether another active service has this name key.
    pub async fn active_service_named(&self, name_key: &str, except_id: &str) -> Result<bool, CaseError> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM services WHERE name_key = $1 AND active = 1 AND id <> $2")
                .bind(name_key)
                .bind(except_id)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn insert_service(
        &self,
        service: &ServiceRecord,
        caller_id: &str,
        request_id: &str,
    ) -> Result<(), CaseError> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO services (id, name, name_key, description, category, response_time_minutes, \
             resolution_time_minutes, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&service.id)
        .bind(&service.name)
        .bind(&service.name_key)
        .bind(&service.description)
        .bind(&service.category)
        .bind(service.response_time_minutes)
        .bind(service.resolution_time_minutes)
        .bind(service.active)
        .bind(service.version)
        .bind(service.created_at)
        .bind(service.updated_at)
        .execute(&mut *tx)
        .await?;
        Store::remember_create(&mut tx, caller_id, "service", request_id, &service.id, service.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a changed service if its version is still `expected_version`.
    pub async fn update_service(&self, service: &ServiceRecord, expected_version: i64) -> Result<bool, CaseError> {
        let done = sqlx::query(
            "UPDATE services SET name = $1, name_key = $2, description = $3, category = $4, \
             response_time_minutes = $5, resolution_time_minutes = $6, active = $7, version = version + 1, \
             updated_at = $8 WHERE id = $9 AND version = $10",
        )
        .bind(&service.name)
        .bind(&service.name_key)
        .bind(&service.description)
        .bind(&service.category)
        .bind(service.response_time_minutes)
        .bind(service.resolution_time_minutes)
        .bind(service.active)
        .bind(service.updated_at)
        .bind(&service.id)
        .bind(expected_version)
        .execute(&self.db.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether an agreement or a case names the service.
    pub async fn service_in_use(&self, id: &str) -> Result<bool, CaseError> {
        let used: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM agreement_services WHERE service_id = $1 \
             UNION ALL SELECT 1 FROM cases WHERE service_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(used.is_some())
    }

    pub async fn delete_service(&self, id: &str, expected_version: Option<i64>) -> Result<bool, CaseError> {
        let done = sqlx::query("DELETE FROM services WHERE id = $1 AND ($2 < 0 OR version = $2)")
            .bind(id)
            .bind(expected_version.unwrap_or(-1))
            .execute(&self.db.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A page of services ordered by name key, then id.
    pub async fn list_services(&self, filter: &ServiceFilter) -> Result<Vec<ServiceRecord>, CaseError> {
        let mut sql = String::from("SELECT * FROM services WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let param = |value: String, binds: &mut Vec<String>| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if !filter.include_inactive {
            sql.push_str(" AND active = 1");
        }
        if !filter.categories.is_empty() {
            let list: Vec<String> = filter.categories.iter().map(|c| param(c.clone(), &mut binds)).collect();
            sql.push_str(&format!(" AND category IN ({})", list.join(", ")));
        }
        if !filter.name_contains.is_empty() {
            let p = param(format!("%{}%", like_escape(&filter.name_contains.to_lowercase())), &mut binds);
            sql.push_str(&format!(" AND name_key LIKE {p} ESCAPE '\\'"));
        }
        if let Some((key, id)) = &filter.after {
            let k = param(key.clone(), &mut binds);
            let i = param(id.clone(), &mut binds);
            sql.push_str(&format!(" AND (name_key > {k} OR (name_key = {k} AND id > {i}))"));
        }
        sql.push_str(&format!(" ORDER BY name_key, id LIMIT {}", filter.limit));
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind);
        }
        Ok(query.fetch_all(&self.db.pool).await?)
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
