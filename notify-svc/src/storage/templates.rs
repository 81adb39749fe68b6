//! Templates, the request ids of their creates, and the shipped defaults.

use service_kit::{clock::Millis, secrets};
use sqlx::AssertSqlSafe;

use super::{AuditEntry, Placeholders, Store};
use crate::domain::{NotifyError, defaults::DefaultTemplate, template::TemplateText};

/// A stored template.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TemplateRow {
    pub id: String,
    pub code: String,
    pub culture: String,
    pub base_code: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl TemplateRow {
    pub fn text(&self) -> TemplateText {
        TemplateText {
            subject: self.subject.clone(),
            body_text: self.body_text.clone(),
            body_html: self.body_html.clone(),
        }
    }

    pub fn audit_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

const COLUMNS: &str = "id, code, culture, base_code, subject, body_text, body_html, version, created_at, updated_at";

/// A template to add.
#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    pub code: &'a str,
    pub culture: &'a str,
    pub base_code: &'a str,
    pub text: &'a TemplateText,
}

/// Which templates to list, after which `(code, culture)`.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    pub code: Option<String>,
    pub culture: Option<String>,
    pub after: Option<(String, String)>,
    pub limit: i64,
}

impl Store {
    pub async fn template(&self, id: &str) -> Result<Option<TemplateRow>, NotifyError> {
        let sql = format!("SELECT {COLUMNS} FROM templates WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// The template of `code` in the first of `cultures` that has one.
    pub async fn template_in(&self, code: &str, cultures: &[String]) -> Result<Option<TemplateRow>, NotifyError> {
        let sql = format!("SELECT {COLUMNS} FROM templates WHERE code = $1");
        let rows: Vec<TemplateRow> = sqlx::query_as(AssertSqlSafe(sql)).bind(code).fetch_all(&self.db.pool).await?;
        Ok(cultures.iter().find_map(|culture| rows.iter().find(|r| &r.culture == culture).cloned()))
    }

    pub async fn templates(&self, filter: &TemplateFilter) -> Result<Vec<TemplateRow>, NotifyError> {
        let mut p = Placeholders(0);
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(code) = &filter.code {
            conditions.push(format!("code = {}", p.next()));
            binds.push(code.clone());
        }
        if let Some(culture) = &filter.culture {
            conditions.push(format!("culture = {}", p.next()));
            binds.push(culture.clone());
        }
        if let Some((code, culture)) = &filter.after {
            let (a, b, c) = (p.next(), p.next(), p.next());
            conditions.push(format!("(code > {a} OR (code = {b} AND culture > {c}))"));
            binds.extend([code.clone(), code.clone(), culture.clone()]);
        }
        let filter_sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {COLUMNS} FROM templates {filter_sql} ORDER BY code, culture LIMIT {}", p.next());
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind);
        }
        Ok(query.bind(filter.limit).fetch_all(&self.db.pool).await?)
    }

    /// `(code, base_code, culture)` of every template, for the code listing.
    pub async fn template_cultures(&self) -> Result<Vec<(String, String, String)>, NotifyError> {
        Ok(sqlx::query_as("SELECT code, base_code, culture FROM templates ORDER BY code, culture")
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// The base code of a (custom) code that has templates.
    pub async fn base_code_of(&self, code: &str) -> Result<Option<String>, NotifyError> {
        Ok(sqlx::query_scalar("SELECT base_code FROM templates WHERE code = $1 LIMIT 1")
            .bind(code)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// The template an earlier create with `request_id` made.
    pub async fn template_by_request(&self, request_id: &str) -> Result<Option<TemplateRow>, NotifyError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM templates WHERE id = (SELECT template_id FROM template_requests WHERE request_id = $1)"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(request_id).fetch_optional(&self.db.pool).await?)
    }

    /// Adds a template; `None` when the code already has one in the culture.
    pub async fn insert_template(
        &self,
        new: NewTemplate<'_>,
        request_id: Option<&str>,
        actor: &str,
        now: Millis,
    ) -> Result<Option<TemplateRow>, NotifyError> {
        let mut tx = self.db.begin().await?;
        let sql = format!(
            "INSERT INTO templates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) \
             ON CONFLICT (code, culture) DO NOTHING RETURNING {COLUMNS}"
        );
        let row: Option<TemplateRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(secrets::new_id())
            .bind(new.code)
            .bind(new.culture)
            .bind(new.base_code)
            .bind(&new.text.subject)
            .bind(&new.text.body_text)
            .bind(&new.text.body_html)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if let Some(request_id) = request_id {
            let recorded = sqlx::query(
                "INSERT INTO template_requests (request_id, template_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (request_id) DO NOTHING",
            )
            .bind(request_id)
            .bind(&row.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if recorded.rows_affected() == 0 {
                // A concurrent create with the same request id won; answer with its result.
                tx.rollback().await?;
                return self.template_by_request(request_id).await;
            }
        }
        AuditEntry {
            actor_user_id: actor,
            action: "template.create",
            resource_type: "template",
            resource_id: &row.id,
            before: serde_json::Value::Null,
            after: row.audit_value(),
        }
        .write(&mut tx, now)
        .await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Replaces a template's text if its version is `expected` (any version when `None`).
    pub async fn update_template(
        &self,
        before: &TemplateRow,
        text: &TemplateText,
        actor: &str,
        now: Millis,
    ) -> Result<Option<TemplateRow>, NotifyError> {
        let mut tx = self.db.begin().await?;
        let sql = format!(
            "UPDATE templates SET subject = $1, body_text = $2, body_html = $3, version = version + 1, updated_at = $4 \
             WHERE id = $5 AND version = $6 RETURNING {COLUMNS}"
        );
        let row: Option<TemplateRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&text.subject)
            .bind(&text.body_text)
            .bind(&text.body_html)
            .bind(now)
            .bind(&before.id)
            .bind(before.version)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        AuditEntry {
            actor_user_id: actor,
            action: "template.update",
            resource_type: "template",
            resource_id: &row.id,
            before: before.audit_value(),
            after: row.audit_value(),
        }
        .write(&mut tx, now)
        .await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Removes a template if it is still at the version read; false when it changed.
    pub async fn delete_template(&self, before: &TemplateRow, actor: &str, now: Millis) -> Result<bool, NotifyError> {
        let mut tx = self.db.begin().await?;
        let deleted = sqlx::query("DELETE FROM templates WHERE id = $1 AND version = $2")
            .bind(&before.id)
            .bind(before.version)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        AuditEntry {
            actor_user_id: actor,
            action: "template.delete",
            resource_type: "template",
            resource_id: &before.id,
            before: before.audit_value(),
            after: serde_json::Value::Null,
        }
        .write(&mut tx, now)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds each shipped template that was never added to this database. Replicas
    /// starting together add each once between them.
    pub async fn seed_templates(&self, defaults: &[DefaultTemplate], now: Millis) -> Result<usize, NotifyError> {
        let mut added = 0;
        for template in defaults {
            let mut tx = self.db.begin().await?;
            let first = sqlx::query(
                "INSERT INTO seeded_templates (code, culture, seeded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (code, culture) DO NOTHING",
            )
            .bind(template.code)
            .bind(template.culture)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if first.rows_affected() == 1 {
                let sql = format!(
                    "INSERT INTO templates ({COLUMNS}) VALUES ($1, $2, $3, $2, $4, $5, $6, 1, $7, $7) \
                     ON CONFLICT (code, culture) DO NOTHING"
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(secrets::new_id())
                    .bind(template.code)
                    .bind(template.culture)
                    .bind(&template.text.subject)
                    .bind(&template.text.body_text)
                    .bind(&template.text.body_html)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                added += 1;
            }
            tx.commit().await?;
        }
        Ok(added)
    }
}
