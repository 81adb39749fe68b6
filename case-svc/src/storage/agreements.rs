//! Service agreements' rows and the services they cover.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::CaseError;

/// An agreement as stored, with its covered services.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgreementRecord {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub calendar_id: String,
    pub status: String,
    pub is_default: i16,
    pub description: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(skip)]
    pub service_ids: Vec<String>,
}

/// Filters of an agreement list.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub statuses: Vec<String>,
    /// (kind, id) service objects; any matches. Empty means all.
    pub objects: Vec<(String, String)>,
    pub service_id: String,
    pub calendar_id: String,
    /// Only agreements visible to a portal user: these service objects or the default.
    pub restrict_to_objects: bool,
    pub after: Option<(String, String)>,
    pub limit: i64,
}

impl Store {
    async fn with_services(&self, mut records: Vec<AgreementRecord>) -> Result<Vec<AgreementRecord>, CaseError> {
        for record in &mut records {
            record.service_ids = sqlx::query_scalar(
                "SELECT service_id FROM agreement_services WHERE agreement_id = $1 ORDER BY service_id",
            )
            .bind(&record.id)
            .fetch_all(&self.db.pool)
            .await?;
        }
        Ok(records)
    }

    pub async fn agreement(&self, id: &str) -> Result<Option<AgreementRecord>, CaseError> {
        let found: Option<AgreementRecord> = sqlx::query_as("SELECT * FROM service_agreements WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(self.with_services(found.into_iter().collect()).await?.pop())
    }

    async fn write_services(conn: &mut AnyConnection, agreement: &AgreementRecord) -> Result<(), CaseError> {
        let services: Vec<&str> = agreement.service_ids.iter().map(String::as_str).collect();
        Ok(Store::replace_links(conn, "agreement_services", "agreement_id", "service_id", &agreement.id, &services)
            .await?)
    }

    pub async fn insert_agreement(
        &self,
        agreement: &AgreementRecord,
        caller_id: &str,
        request_id: &str,
    ) -> Result<(), CaseError> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO service_agreements (id, name, name_key, object_kind, object_id, calendar_id, status, \
             is_default, description, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&agreement.id)
        .bind(&agreement.name)
        .bind(&agreement.name_key)
        .bind(&agreement.object_kind)
        .bind(&agreement.object_id)
        .bind(&agreement.calendar_id)
        .bind(&agreement.status)
        .bind(agreement.is_default)
        .bind(&agreement.description)
        .bind(agreement.version)
        .bind(agreement.created_at)
        .bind(agreement.updated_at)
        .execute(&mut *tx)
        .await?;
        Store::write_services(&mut tx, agreement).await?;
        Store::remember_create(&mut tx, caller_id, "agreement", request_id, &agreement.id, agreement.created_at)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_agreement(
        &self,
        agreement: &AgreementRecord,
        expected_version: i64,
    ) -> Result<bool, CaseError> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE service_agreements SET name = $1, name_key = $2, object_kind = $3, object_id = $4, \
             calendar_id = $5, status = $6, is_default = $7, description = $8, version = version + 1, updated_at = $9 \
             WHERE id = $10 AND version = $11",
        )
        .bind(&agreement.name)
        .bind(&agreement.name_key)
        .bind(&agreement.object_kind)
        .bind(&agreement.object_id)
        .bind(&agreement.calendar_id)
        .bind(&agreement.status)
        .bind(agreement.is_default)
        .bind(&agreement.description)
        .bind(agreement.updated_at)
        .bind(&agreement.id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        Store::write_services(&mut tx, agreement).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn agreement_in_use(&self, id: &str) -> Result<bool, CaseError> {
        let used: Option<i64> = sqlx::query_scalar("SELECT 1 FROM cases WHERE agreement_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(used.is_some())
    }

    pub async fn delete_agreement(&self, id: &str, expected_version: Option<i64>) -> Result<bool, CaseError> {
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM agreement_services WHERE agreement_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM service_agreements WHERE id = $1 AND ($2 < 0 OR version = $2)")
            .bind(id)
            .bind(expected_version.unwrap_or(-1))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The id of the default agreement other than `except_id`, if any.
    pub async fn default_agreement_other_than(&self, except_id: &str) -> Result<Option<String>, CaseError> {
        Ok(sqlx::query_scalar("SELECT id FROM service_agreements WHERE is_default = 1 AND id <> $1")
            .bind(except_id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// Active agreements serving any of `objects` ((kind, id) pairs), covering `service_id`
    /// when it is not empty; and the active default agreement (covering it too).
    pub async fn applicable_agreements(
        &self,
        objects: &[(&str, &str)],
        service_id: &str,
    ) -> Result<(Vec<AgreementRecord>, Option<AgreementRecord>), CaseError> {
        let covers = "($1 = '' OR EXISTS (SELECT 1 FROM agreement_services s WHERE s.agreement_id = a.id \
                      AND s.service_id = $1))";
        let mut applicable = Vec::new();
        for (kind, id) in objects {
            if id.is_empty() {
                continue;
            }
            let found: Vec<AgreementRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT a.* FROM service_agreements a WHERE a.status = 'active' AND a.object_kind = $2 \
                 AND a.object_id = $3 AND {covers} ORDER BY a.id"
            )))
            .bind(service_id)
            .bind(*kind)
            .bind(*id)
            .fetch_all(&self.db.pool)
            .await?;
            applicable.extend(found);
        }
        let default: Option<AgreementRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.* FROM service_agreements a WHERE a.status = 'active' AND a.is_default = 1 AND {covers}"
        )))
        .bind(service_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let applicable = self.with_services(applicable).await?;
        let default = self.with_services(default.into_iter().collect()).await?.pop();
        Ok((applicable, default))
    }

    /// A page of agreements ordered by name key, then id.
    pub async fn list_agreements(&self, filter: &AgreementFilter) -> Result<Vec<AgreementRecord>, CaseError> {
        let mut sql = String::from("SELECT a.* FROM service_agreements a WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let param = |value: &str, binds: &mut Vec<String>| {
            binds.push(value.to_owned());
            format!("${}", binds.len())
        };
        if !filter.statuses.is_empty() {
            let list: Vec<String> = filter.statuses.iter().map(|s| param(s, &mut binds)).collect();
            sql.push_str(&format!(" AND a.status IN ({})", list.join(", ")));
        }
        if !filter.objects.is_empty() || filter.restrict_to_objects {
            let mut any: Vec<String> = filter
                .objects
                .iter()
                .map(|(kind, id)| {
                    let k = param(kind, &mut binds);
                    let i = param(id, &mut binds);
                    format!("(a.object_kind = {k} AND a.object_id = {i})")
                })
                .collect();
            if filter.restrict_to_objects {
                any.push("a.is_default = 1".into());
            }
            if any.is_empty() {
                any.push("1 = 0".into());
            }
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
        if !filter.service_id.is_empty() {
            let p = param(&filter.service_id, &mut binds);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM agreement_services s WHERE s.agreement_id = a.id AND s.service_id = {p})"
            ));
        }
        if !filter.calendar_id.is_empty() {
            let p = param(&filter.calendar_id, &mut binds);
            sql.push_str(&format!(" AND a.calendar_id = {p}"));
        }
        if let Some((key, id)) = &filter.after {
            let k = param(key, &mut binds);
            let i = param(id, &mut binds);
            sql.push_str(&format!(" AND (a.name_key > {k} OR (a.name_key = {k} AND a.id > {i}))"));
        }
        sql.push_str(&format!(" ORDER BY a.name_key, a.id LIMIT {}", filter.limit));
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind);
        }
        let records = query.fetch_all(&self.db.pool).await?;
        self.with_services(records).await
    }
}
