//! The list of objects available for portal users, the portal configurations and the
//! portal sections.

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use super::{Store, Tx, flag};
use crate::domain::{AccessError, object_key};

/// An entry of the portal object list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalObjectRow {
    pub id: String,
    pub code: String,
    pub display_name: String,
    pub record_permissions_enabled: bool,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const OBJECT_SELECT: &str = "SELECT id, code, display_name, record_permissions_enabled, version, created_at, updated_at, \
                             object_key AS sort_key FROM portal_objects";

fn object_of(row: &sqlx::any::AnyRow) -> Result<PortalObjectRow, AccessError> {
    Ok(PortalObjectRow {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        display_name: row.try_get("display_name")?,
        record_permissions_enabled: flag(row, "record_permissions_enabled")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_object(tx: &mut Tx, object: &PortalObjectRow) -> Result<(), AccessError> {
    sqlx::query(
        "INSERT INTO portal_objects (id, code, object_key, display_name, record_permissions_enabled, version, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&object.id)
    .bind(&object.code)
    .bind(object_key(&object.code))
    .bind(&object.display_name)
    .bind(i16::from(object.record_permissions_enabled))
    .bind(object.version)
    .bind(object.created_at)
    .bind(object.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_object(tx: &mut Tx, object: &PortalObjectRow) -> Result<(), AccessError> {
    sqlx::query(
        "UPDATE portal_objects SET display_name = $2, record_permissions_enabled = $3, version = $4, updated_at = $5 \
         WHERE id = $1",
    )
    .bind(&object.id)
    .bind(&object.display_name)
    .bind(i16::from(object.record_permissions_enabled))
    .bind(object.version)
    .bind(object.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_object(tx: &mut Tx, id: &str) -> Result<(), AccessError> {
    sqlx::query("DELETE FROM portal_objects WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

pub async fn object_in(tx: &mut Tx, id: &str) -> Result<Option<PortalObjectRow>, AccessError> {
    let row =
        sqlx::query(AssertSqlSafe(format!("{OBJECT_SELECT} WHERE id = $1"))).bind(id).fetch_optional(&mut **tx).await?;
    row.as_ref().map(object_of).transpose()
}

/// The object codes among `codes` that are not on the portal.
pub async fn missing_objects(tx: &mut Tx, codes: &[String]) -> Result<Vec<String>, AccessError> {
    let mut missing = Vec::new();
    for code in codes {
        let found = sqlx::query("SELECT id FROM portal_objects WHERE object_key = $1")
            .bind(object_key(code))
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            missing.push(code.clone());
        }
    }
    Ok(missing)
}

impl Store {
    pub async fn portal_object(&self, id: &str) -> Result<Option<PortalObjectRow>, AccessError> {
        let row = sqlx::query(AssertSqlSafe(format!("{OBJECT_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(object_of).transpose()
    }

    pub async fn list_portal_objects(
        &self,
        code: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, PortalObjectRow)>, AccessError> {
        let sql = format!(
            "{OBJECT_SELECT} WHERE ($1 = '' OR object_key = $1) AND object_key > $2 ORDER BY object_key LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(object_key(code))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, object_of(row)?))).collect()
    }
}

/// A portal configuration's stored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigurationRow {
    pub id: String,
    pub enabled: bool,
    pub custom_section_count: i64,
    pub version: i64,
    pub updated_at: i64,
}

const CONFIGURATION_SELECT: &str = "SELECT c.id, c.enabled, c.version, c.updated_at, \
     (SELECT COUNT(*) FROM sections s WHERE s.configuration_id = c.id AND s.kind = 2) AS custom_section_count, \
     (SELECT COUNT(*) FROM sections s WHERE s.configuration_id = c.id) AS section_count \
     FROM portal_configurations c";

fn configuration_of(row: &sqlx::any::AnyRow) -> Result<(ConfigurationRow, i64), AccessError> {
    Ok((
        ConfigurationRow {
            id: row.try_get("id")?,
            enabled: flag(row, "enabled")?,
            custom_section_count: row.try_get("custom_section_count")?,
            version: row.try_get("version")?,
            updated_at: row.try_get("updated_at")?,
        },
        row.try_get("section_count")?,
    ))
}

/// A configuration and how many sections it has, locked for a change on PostgreSQL.
pub async fn configuration_in(tx: &mut Tx, id: &str) -> Result<Option<(ConfigurationRow, i64)>, AccessError> {
    // Serialise section changes per configuration: the row update takes the lock on
    // PostgreSQL (SQLite serialises writers anyway), so two concurrent custom sections
    // cannot both pass the limit.
    sqlx::query("UPDATE portal_configurations SET version = version WHERE id = $1").bind(id).execute(&mut **tx).await?;
    let row = sqlx::query(AssertSqlSafe(format!("{CONFIGURATION_SELECT} WHERE c.id = $1")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(configuration_of).transpose()
}

pub async fn update_configuration(tx: &mut Tx, row: &ConfigurationRow) -> Result<(), AccessError> {
    sqlx::query("UPDATE portal_configurations SET enabled = $2, version = $3, updated_at = $4 WHERE id = $1")
        .bind(&row.id)
        .bind(i16::from(row.enabled))
        .bind(row.version)
        .bind(row.updated_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    pub async fn configurations(&self) -> Result<Vec<ConfigurationRow>, AccessError> {
        let rows = sqlx::query(AssertSqlSafe(CONFIGURATION_SELECT.to_owned())).fetch_all(&self.db.pool).await?;
        rows.iter().map(|row| configuration_of(row).map(|(c, _)| c)).collect()
    }
}

/// A portal section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionRow {
    pub id: String,
    pub kind: i16,
    pub standard_section: i16,
    pub configuration_id: String,
    pub code: String,
    pub title: String,
    pub primary_object_code: String,
    pub page_object_codes: Vec<String>,
    pub page_object_count: i64,
    pub read_only: bool,
    pub position: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SectionRow {
    /// Side-panel order: position, then title.
    fn sort_key(&self) -> String {
        format!("{:012}/{}/{}", self.position + (1i64 << 31), self.title.to_lowercase(), self.id)
    }
}

const SECTION_SELECT: &str = "SELECT id, kind, standard_section, configuration_id, code, title, primary_object_code, \
     page_object_codes, page_object_count, read_only, position, version, created_at, updated_at, sort_key FROM sections";

fn section_of(row: &sqlx::any::AnyRow) -> Result<SectionRow, AccessError> {
    let codes: String = row.try_get("page_object_codes")?;
    Ok(SectionRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        standard_section: row.try_get("standard_section")?,
        configuration_id: row.try_get("configuration_id")?,
        code: row.try_get("code")?,
        title: row.try_get("title")?,
        primary_object_code: row.try_get("primary_object_code")?,
        page_object_codes: codes.lines().map(str::to_owned).collect(),
        page_object_count: row.try_get("page_object_count")?,
        read_only: flag(row, "read_only")?,
        position: row.try_get("position")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn upsert_section(tx: &mut Tx, section: &SectionRow, insert: bool) -> Result<(), AccessError> {
    let sql = if insert {
        "INSERT INTO sections (id, kind, standard_section, configuration_id, code, code_key, title, primary_object_code, \
         primary_object_key, page_object_codes, page_object_count, read_only, position, sort_key, version, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    } else {
        "UPDATE sections SET kind = $2, standard_section = $3, configuration_id = $4, code = $5, code_key = $6, \
         title = $7, primary_object_code = $8, primary_object_key = $9, page_object_codes = $10, \
         page_object_count = $11, read_only = $12, position = $13, sort_key = $14, version = $15, created_at = $16, \
         updated_at = $17 WHERE id = $1"
    };
    sqlx::query(sql)
        .bind(&section.id)
        .bind(section.kind)
        .bind(section.standard_section)
        .bind(&section.configuration_id)
        .bind(&section.code)
        .bind(section.code.to_ascii_lowercase())
        .bind(&section.title)
        .bind(&section.primary_object_code)
        .bind(object_key(&section.primary_object_code))
        .bind(section.page_object_codes.join("\n"))
        .bind(section.page_object_count)
        .bind(i16::from(section.read_only))
        .bind(section.position)
        .bind(section.sort_key())
        .bind(section.version)
        .bind(section.created_at)
        .bind(section.updated_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_section(tx: &mut Tx, id: &str) -> Result<(), AccessError> {
    sqlx::query("DELETE FROM sections WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

pub async fn section_in(tx: &mut Tx, id: &str) -> Result<Option<SectionRow>, AccessError> {
    let row = sqlx::query(AssertSqlSafe(format!("{SECTION_SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(section_of).transpose()
}

/// True while a section uses the object as its primary or a page object.
pub async fn object_used_by_section(tx: &mut Tx, code: &str) -> Result<bool, AccessError> {
    let rows = sqlx::query("SELECT primary_object_code, page_object_codes FROM sections").fetch_all(&mut **tx).await?;
    let key = object_key(code);
    for row in rows {
        let primary: String = row.try_get("primary_object_code")?;
        let pages: String = row.try_get("page_object_codes")?;
        if object_key(&primary) == key || pages.lines().any(|c| object_key(c) == key) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Store {
    pub async fn section(&self, id: &str) -> Result<Option<SectionRow>, AccessError> {
        let row = sqlx::query(AssertSqlSafe(format!("{SECTION_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(section_of).transpose()
    }

    /// The section whose code is `code`, compared case-insensitively.
    pub async fn section_by_code(&self, code: &str) -> Result<Option<SectionRow>, AccessError> {
        let row = sqlx::query(AssertSqlSafe(format!("{SECTION_SELECT} WHERE code_key = $1")))
            .bind(object_key(code))
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(section_of).transpose()
    }

    pub async fn list_sections(
        &self,
        configuration_id: &str,
        kind: i16,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, SectionRow)>, AccessError> {
        let sql = format!(
            "{SECTION_SELECT} WHERE ($1 = '' OR configuration_id = $1) AND ($2 = 0 OR kind = $2) AND sort_key > $3 \
             ORDER BY sort_key LIMIT $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(configuration_id)
            .bind(kind)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, section_of(row)?))).collect()
    }
}
