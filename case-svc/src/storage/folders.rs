//! Users' folders. Every statement names the owner, so one user's folder is never
//! another's; the per-user limit and the unique name per parent hold in the same
//! statement that writes the row.

use std::collections::HashMap;

use service_kit::{clock::Millis, db::Database, secrets};

use super::knowledge::{Change, Created, KnowledgeStore, RequestKey};
use crate::domain::{
    folders::{MAX_FOLDERS_PER_USER, Section, name_key},
    knowledge::KnowledgeError,
};

/// A folder row; `filter` is the section's stored filter, protobuf in base64 ('' for none).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FolderRecord {
    pub id: String,
    pub owner_user_id: String,
    pub section: String,
    pub parent_id: String,
    pub name: String,
    pub name_key: String,
    pub filter: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
}

/// A folder's settable fields.
#[derive(Debug, Clone)]
pub struct FolderFields {
    pub name: String,
    pub parent_id: String,
    pub filter: String,
}

/// Why a folder could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NameTaken,
    TooMany,
}

#[derive(Debug, Clone)]
pub struct FolderStore {
    db: Database,
}

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl FolderStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Writes a folder of `owner`, unless `key` was used before, the owner has the most
    /// folders allowed, or the parent has a folder of that name.
    pub async fn insert(
        &self,
        owner: &str,
        section: Section,
        fields: &FolderFields,
        key: RequestKey<'_>,
        now: Millis,
        expired_before: Millis,
    ) -> Result<Result<Created, Refusal>, KnowledgeError> {
        let id = secrets::new_id();
        let mut tx = self.db.begin().await?;
        if let Some(earlier) = KnowledgeStore::claim_request_id(&mut tx, key, &id, now, expired_before).await? {
            return Ok(Ok(Created::Earlier(earlier)));
        }
        let inserted = sqlx::query(
            "INSERT INTO folders (id, owner_user_id, section, parent_id, name, name_key, filter, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8 WHERE (SELECT COUNT(*) FROM folders WHERE owner_user_id = $2) < $9",
        )
        .bind(&id)
        .bind(owner)
        .bind(section.code())
        .bind(&fields.parent_id)
        .bind(&fields.name)
        .bind(name_key(&fields.name))
        .bind(&fields.filter)
        .bind(now)
        .bind(MAX_FOLDERS_PER_USER)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(error) if unique_violation(&error) => return Ok(Err(Refusal::NameTaken)),
            Err(error) => return Err(error.into()),
            Ok(done) if done.rows_affected() == 0 => return Ok(Err(Refusal::TooMany)),
            Ok(_) => {}
        }
        tx.commit().await?;
        Ok(Ok(Created::New(id)))
    }

    /// One folder of `owner`.
    pub async fn folder(&self, id: &str, owner: &str) -> Result<Option<FolderRecord>, KnowledgeError> {
        Ok(sqlx::query_as("SELECT * FROM folders WHERE id = $1 AND owner_user_id = $2")
            .bind(id)
            .bind(owner)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// A page of `owner`'s folders of `section`, by name then id, after (name key, id).
    pub async fn list(
        &self,
        owner: &str,
        section: Section,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<FolderRecord>, KnowledgeError> {
        let (after_key, after_id) = after.unwrap_or_default();
        Ok(sqlx::query_as(
            "SELECT * FROM folders WHERE owner_user_id = $1 AND section = $2 \
             AND (name_key > $3 OR (name_key = $3 AND id > $4)) ORDER BY name_key, id LIMIT $5",
        )
        .bind(owner)
        .bind(section.code())
        .bind(after_key)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Each of `owner`'s folders of `section` with its parent ('' for a root).
    pub async fn parents(&self, owner: &str, section: Section) -> Result<HashMap<String, String>, KnowledgeError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, parent_id FROM folders WHERE owner_user_id = $1 AND section = $2")
                .bind(owner)
                .bind(section.code())
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Replaces a folder's fields if its version is still `version`.
    pub async fn update(
        &self,
        id: &str,
        owner: &str,
        version: i64,
        fields: &FolderFields,
        now: Millis,
    ) -> Result<Result<Change<()>, Refusal>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let updated = sqlx::query(
            "UPDATE folders SET name = $4, name_key = $5, parent_id = $6, filter = $7, updated_at = $8, \
             version = version + 1 WHERE id = $1 AND owner_user_id = $2 AND version = $3",
        )
        .bind(id)
        .bind(owner)
        .bind(version)
        .bind(&fields.name)
        .bind(name_key(&fields.name))
        .bind(&fields.parent_id)
        .bind(&fields.filter)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match updated {
            Err(error) if unique_violation(&error) => return Ok(Err(Refusal::NameTaken)),
            Err(error) => return Err(error.into()),
            Ok(done) if done.rows_affected() == 0 => {
                return Ok(Ok(self.missing_or_stale(&mut tx, id, owner).await?));
            }
            Ok(_) => {}
        }
        tx.commit().await?;
        Ok(Ok(Change::Done(())))
    }

    async fn missing_or_stale(
        &self,
        connection: &mut sqlx::AnyConnection,
        id: &str,
        owner: &str,
    ) -> Result<Change<()>, KnowledgeError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM folders WHERE id = $1 AND owner_user_id = $2")
            .bind(id)
            .bind(owner)
            .fetch_one(&mut *connection)
            .await?;
        Ok(if count == 0 { Change::NotFound } else { Change::Stale })
    }

    /// Deletes a childless folder if its version is `version` (any when `None`); `Ok(false)`
    /// when it has subfolders.
    pub async fn delete(&self, id: &str, owner: &str, version: Option<i64>) -> Result<Change<bool>, KnowledgeError> {
        let mut tx = self.db.begin().await?;
        let deleted = sqlx::query(
            "DELETE FROM folders WHERE id = $1 AND owner_user_id = $2 AND ($3 < 0 OR version = $3) \
             AND NOT EXISTS (SELECT 1 FROM folders c WHERE c.parent_id = $1)",
        )
        .bind(id)
        .bind(owner)
        .bind(version.unwrap_or(-1))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 1 {
            tx.commit().await?;
            return Ok(Change::Done(true));
        }
        let (children,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM folders WHERE parent_id = $1").bind(id).fetch_one(&mut *tx).await?;
        Ok(match self.missing_or_stale(&mut tx, id, owner).await? {
            Change::NotFound => Change::NotFound,
            Change::Stale if children > 0 => Change::Done(false),
            Change::Stale | Change::Done(()) => Change::Stale,
        })
    }
}
