//! Registered records, their grants (manual, default-rule and service), and the per-object
//! change feed that owning services pull into their grant replicas.

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use super::{Store, Tx, facts::rights_of, flag, grantee_of, placeholders};
use crate::domain::{AccessError, Grantee, Rights};

/// Where a record grant came from (record_grants.proto's RecordGrantSource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    Manual = 1,
    DefaultRule = 2,
    Service = 3,
}

impl Source {
    pub fn from_i32(value: i32) -> Option<Self> {
        match value {
            1 => Some(Self::Manual),
            2 => Some(Self::DefaultRule),
            3 => Some(Self::Service),
            _ => None,
        }
    }
}

/// A stored record grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordGrantRow {
    pub id: String,
    pub object_code: String,
    pub record_id: String,
    pub grantee: Grantee,
    pub rights: Rights,
    pub source: Source,
    pub rule_id: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantChange {
    pub revision: i64,
    pub grant_id: String,
    pub record_id: String,
    pub grantee_key: String,
    pub rights: Rights,
    pub removed: bool,
}

/// A default record rule as registration applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicableRule {
    pub id: String,
    /// `None` for "the author's organization".
    pub target: Option<Grantee>,
    pub rights: Rights,
}

const GRANT_COLUMNS: &str = "id, object_code, record_id, grantee_kind, grantee_id, can_read, can_edit, can_delete, \
                             source, rule_id, version, created_at, updated_at";

fn grant_of(row: &sqlx::any::AnyRow) -> Result<RecordGrantRow, AccessError> {
    Ok(RecordGrantRow {
        id: row.try_get("id")?,
        object_code: row.try_get("object_code")?,
        record_id: row.try_get("record_id")?,
        grantee: grantee_of(row, "grantee")?,
        rights: rights_of(row)?,
        source: Source::from_i32(row.try_get::<i16, _>("source")?.into()).unwrap_or(Source::Manual),
        rule_id: row.try_get("rule_id")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Newest first: the keyset position sorts descending by creation through an inverted time.
fn sort_key(created_at: i64, id: &str) -> String {
    format!("{:020}/{id}", i64::MAX - created_at)
}

/// Takes the next revision of an object's change feed (serialised by the row's lock).
async fn next_revision(tx: &mut Tx, object_key: &str) -> Result<i64, AccessError> {
    let row = sqlx::query(
        "INSERT INTO record_grant_revisions (object_key, revision) VALUES ($1, 1) \
         ON CONFLICT (object_key) DO UPDATE SET revision = record_grant_revisions.revision + 1 RETURNING revision",
    )
    .bind(object_key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("revision")?)
}

/// Appends one change to the feed; returns its revision.
async fn append_change(tx: &mut Tx, grant: &RecordGrantRow, removed: bool, now: i64) -> Result<i64, AccessError> {
    let object_key = crate::domain::object_key(&grant.object_code);
    let revision = next_revision(tx, &object_key).await?;
    let rights = if removed { Rights::default() } else { grant.rights };
    sqlx::query(
        "INSERT INTO record_grant_changes (object_key, revision, grant_id, record_id, grantee_key, can_read, can_edit, \
         can_delete, removed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&object_key)
    .bind(revision)
    .bind(&grant.id)
    .bind(&grant.record_id)
    .bind(grant.grantee.key())
    .bind(i16::from(rights.read))
    .bind(i16::from(rights.edit))
    .bind(i16::from(rights.delete))
    .bind(i16::from(removed))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(revision)
}

/// Stores a new record grant and its change; returns the revision.
pub async fn insert_grant(tx: &mut Tx, grant: &RecordGrantRow) -> Result<i64, AccessError> {
    let rights = grant.rights;
    sqlx::query(
        "INSERT INTO record_grants (id, object_code, object_key, record_id, grantee_kind, grantee_id, grantee_key, \
         can_read, can_edit, can_delete, source, rule_id, sort_key, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&grant.id)
    .bind(&grant.object_code)
    .bind(crate::domain::object_key(&grant.object_code))
    .bind(&grant.record_id)
    .bind(grant.grantee.kind.as_str())
    .bind(&grant.grantee.id)
    .bind(grant.grantee.key())
    .bind(i16::from(rights.read))
    .bind(i16::from(rights.edit))
    .bind(i16::from(rights.delete))
    .bind(grant.source as i16)
    .bind(&grant.rule_id)
    .bind(sort_key(grant.created_at, &grant.id))
    .bind(grant.version)
    .bind(grant.created_at)
    .bind(grant.updated_at)
    .execute(&mut **tx)
    .await?;
    append_change(tx, grant, false, grant.updated_at).await
}

/// Stores new rights of a grant (its version already advanced) and the change.
pub async fn update_grant(tx: &mut Tx, grant: &RecordGrantRow) -> Result<i64, AccessError> {
    let rights = grant.rights;
    sqlx::query(
        "UPDATE record_grants SET can_read = $2, can_edit = $3, can_delete = $4, version = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(&grant.id)
    .bind(i16::from(rights.read))
    .bind(i16::from(rights.edit))
    .bind(i16::from(rights.delete))
    .bind(grant.version)
    .bind(grant.updated_at)
    .execute(&mut **tx)
    .await?;
    append_change(tx, grant, false, grant.updated_at).await
}

/// Removes a grant and records the change.
pub async fn delete_grant(tx: &mut Tx, grant: &RecordGrantRow, now: i64) -> Result<i64, AccessError> {
    sqlx::query("DELETE FROM record_grants WHERE id = $1").bind(&grant.id).execute(&mut **tx).await?;
    append_change(tx, grant, true, now).await
}

/// Registers a record; `false` when it was there already.
pub async fn insert_record(
    tx: &mut Tx,
    object_code: &str,
    record_id: &str,
    author_user_id: &str,
    organization_id: &str,
    now: i64,
) -> Result<bool, AccessError> {
    let result = sqlx::query(
        "INSERT INTO records (object_key, record_id, object_code, author_user_id, organization_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (object_key, record_id) DO NOTHING",
    )
    .bind(crate::domain::object_key(object_code))
    .bind(record_id)
    .bind(object_code)
    .bind(author_user_id)
    .bind(organization_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes a registered record.
pub async fn delete_record(tx: &mut Tx, object_key: &str, record_id: &str) -> Result<(), AccessError> {
    sqlx::query("DELETE FROM records WHERE object_key = $1 AND record_id = $2")
        .bind(object_key)
        .bind(record_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Grants of one record, optionally of one grantee and one source, locked for a change.
pub async fn record_grants_in(
    tx: &mut Tx,
    object_key: &str,
    record_id: &str,
    grantee_key: Option<&str>,
    source: Option<Source>,
) -> Result<Vec<RecordGrantRow>, AccessError> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM record_grants WHERE object_key = $1 AND record_id = $2 \
         AND ($3 = '' OR grantee_key = $3) AND ($4 = 0 OR source = $4) ORDER BY created_at, id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(object_key)
        .bind(record_id)
        .bind(grantee_key.unwrap_or(""))
        .bind(source.map_or(0i16, |s| s as i16))
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(grant_of).collect()
}

/// The rules of an object whose author is one of `author_keys`.
pub async fn applicable_rules(
    tx: &mut Tx,
    object_key: &str,
    author_keys: &[String],
) -> Result<Vec<ApplicableRule>, AccessError> {
    let sql = format!(
        "SELECT id, target_kind, target_grantee_kind, target_grantee_id, can_read, can_edit, can_delete \
         FROM default_record_rules WHERE object_key = $1 AND author_key IN ({}) ORDER BY created_at, id",
        placeholders(2, author_keys.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(object_key);
    for key in author_keys {
        query = query.bind(key);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| {
            let target_kind: String = row.try_get("target_kind")?;
            let target = if target_kind == "grantee" { Some(grantee_of(row, "target_grantee")?) } else { None };
            Ok(ApplicableRule { id: row.try_get("id")?, target, rights: rights_of(row)? })
        })
        .collect()
}

impl Store {
    /// The current revision of an object's change feed (0 before any change).
    pub async fn grants_revision(&self, object_key: &str) -> Result<i64, AccessError> {
        let row = sqlx::query("SELECT revision FROM record_grant_revisions WHERE object_key = $1")
            .bind(object_key)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.map(|r| r.try_get("revision")).transpose()?.unwrap_or(0))
    }

    /// Changes after `after_revision`, oldest first, at most `limit`.
    pub async fn grant_changes(
        &self,
        object_key: &str,
        after_revision: i64,
        limit: i64,
    ) -> Result<Vec<GrantChange>, AccessError> {
        let rows = sqlx::query(
            "SELECT revision, grant_id, record_id, grantee_key, can_read, can_edit, can_delete, removed \
             FROM record_grant_changes WHERE object_key = $1 AND revision > $2 ORDER BY revision LIMIT $3",
        )
        .bind(object_key)
        .bind(after_revision)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GrantChange {
                    revision: row.try_get("revision")?,
                    grant_id: row.try_get("grant_id")?,
                    record_id: row.try_get("record_id")?,
                    grantee_key: row.try_get("grantee_key")?,
                    rights: rights_of(row)?,
                    removed: flag(row, "removed")?,
                })
            })
            .collect()
    }

    /// The highest revision of an object's change feed dropped by compaction (0 when none).
    pub async fn compacted_through(&self, object_key: &str) -> Result<i64, AccessError> {
        let row = sqlx::query("SELECT compacted_through FROM record_grant_revisions WHERE object_key = $1")
            .bind(object_key)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.map(|r| r.try_get("compacted_through")).transpose()?.unwrap_or(0))
    }

    /// Drops the changes of an object made before `before` that no longer describe a
    /// current grant (the grant was removed, or changed again later), and raises the
    /// feed's `compacted_through` to the highest revision dropped. A full pull (from 0)
    /// still yields every current grant: each keeps its latest change.
    pub async fn compact_changes(&self, object_key: &str, before: i64) -> Result<(), AccessError> {
        const OBSOLETE: &str = "FROM record_grant_changes c WHERE c.object_key = $1 AND c.created_at < $2 \
             AND (c.removed = 1 OR EXISTS (SELECT 1 FROM record_grant_changes l \
             WHERE l.object_key = c.object_key AND l.grant_id = c.grant_id AND l.revision > c.revision))";
        let mut tx = self.begin().await?;
        let highest: Option<i64> = sqlx::query(AssertSqlSafe(format!("SELECT MAX(c.revision) AS highest {OBSOLETE}")))
            .bind(object_key)
            .bind(before)
            .fetch_one(&mut *tx)
            .await?
            .try_get("highest")?;
        let Some(highest) = highest else {
            return Ok(());
        };
        // Removing by revision keeps the rows decided above, even if a change arrives meanwhile.
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM record_grant_changes WHERE object_key = $1 AND revision IN (SELECT c.revision {OBSOLETE}) \
             AND revision <= $3"
        )))
        .bind(object_key)
        .bind(before)
        .bind(highest)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE record_grant_revisions SET compacted_through = $2 WHERE object_key = $1 AND compacted_through < $2",
        )
        .bind(object_key)
        .bind(highest)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One record grant.
    pub async fn record_grant(&self, id: &str) -> Result<Option<RecordGrantRow>, AccessError> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM record_grants WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?;
        row.as_ref().map(grant_of).transpose()
    }

    /// A page of record grants, newest first, filtered; `after` is the last sort key seen.
    pub async fn list_record_grants(
        &self,
        object_key: &str,
        record_id: &str,
        grantee_key: &str,
        source: Option<Source>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, RecordGrantRow)>, AccessError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS}, sort_key FROM record_grants WHERE ($1 = '' OR object_key = $1) \
             AND ($2 = '' OR record_id = $2) AND ($3 = '' OR grantee_key = $3) AND ($4 = 0 OR source = $4) \
             AND sort_key > $5 ORDER BY sort_key LIMIT $6"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(object_key)
            .bind(record_id)
            .bind(grantee_key)
            .bind(source.map_or(0i16, |s| s as i16))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("sort_key")?, grant_of(row)?))).collect()
    }
}

/// Every record grant made to a grantee key (for RemoveGrantee).
pub async fn record_grants_to(tx: &mut Tx, grantee_key: &str) -> Result<Vec<RecordGrantRow>, AccessError> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM record_grants WHERE grantee_key = $1");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(grantee_key).fetch_all(&mut **tx).await?;
    rows.iter().map(grant_of).collect()
}
