//! Attachments and their content, for every kind of parent. An upload's content is
//! staged a piece at a time as it arrives; the finished file takes its staged pieces, with
//! the case history entry recording it, in one transaction; downloads read it back a
//! piece at a time. Nothing holds a whole file in memory.

use base64::{Engine, engine::general_purpose::STANDARD};
use service_kit::{clock::Millis, db::Database};

use super::{
    Store,
    cases::HistoryRecord,
    knowledge::{Created, KnowledgeStore, RequestKey},
};
use crate::domain::attachments::{AttachmentError, Parent};

/// An attachment row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRecord {
    pub id: String,
    pub parent_kind: String,
    pub parent_id: String,
    pub message_case_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploader_user_id: String,
    pub created_at: Millis,
}

/// A file to store.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub id: &'a str,
    pub parent: &'a Parent,
    pub message_case_id: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub uploader_user_id: &'a str,
    /// The upload whose staged pieces are the content.
    pub upload_id: &'a str,
    pub size_bytes: i64,
    /// The case history entry of a file of a case or message.
    pub history: Option<&'a HistoryRecord>,
}

#[derive(Debug, Clone)]
pub struct AttachmentStore {
    db: Database,
}

impl AttachmentStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Stages the `seq`th piece of upload `upload_id`.
    pub async fn stage(&self, upload_id: &str, seq: i64, piece: &[u8], now: Millis) -> Result<(), AttachmentError> {
        sqlx::query("INSERT INTO attachment_upload_chunks (upload_id, seq, data, created_at) VALUES ($1, $2, $3, $4)")
            .bind(upload_id)
            .bind(seq)
            .bind(STANDARD.encode(piece))
            .bind(now)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }

    /// Deletes the staged pieces of an upload that will not be stored.
    pub async fn discard(&self, upload_id: &str) -> Result<(), AttachmentError> {
        sqlx::query("DELETE FROM attachment_upload_chunks WHERE upload_id = $1")
            .bind(upload_id)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }

    /// Deletes the pieces staged before `before` (uploads a stopped process left); returns
    /// how many.
    pub async fn discard_staged_before(&self, before: Millis) -> Result<u64, AttachmentError> {
        let done = sqlx::query("DELETE FROM attachment_upload_chunks WHERE created_at < $1")
            .bind(before)
            .execute(&self.db.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Stores a file, its content moved from its upload's staged pieces, unless `key` was
    /// used before.
    pub async fn insert(
        &self,
        file: &NewAttachment<'_>,
        key: RequestKey<'_>,
        now: Millis,
        expired_before: Millis,
    ) -> Result<Created, AttachmentError> {
        let id = file.id.to_owned();
        let mut tx = self.db.begin().await?;
        let earlier = KnowledgeStore::claim_request_id(&mut tx, key, &id, now, expired_before)
            .await
            .map_err(|e| AttachmentError::Api(e.into()))?;
        if let Some(earlier) = earlier {
            return Ok(Created::Earlier(earlier));
        }
        sqlx::query(
            "INSERT INTO attachments (id, parent_kind, parent_id, message_case_id, file_name, content_type, \
             size_bytes, sha256, uploader_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(file.parent.kind())
        .bind(file.parent.id())
        .bind(file.message_case_id)
        .bind(file.file_name)
        .bind(file.content_type)
        .bind(file.size_bytes)
        .bind(file.sha256)
        .bind(file.uploader_user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO attachment_chunks (attachment_id, seq, data) \
             SELECT $1, seq, data FROM attachment_upload_chunks WHERE upload_id = $2",
        )
        .bind(&id)
        .bind(file.upload_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM attachment_upload_chunks WHERE upload_id = $1")
            .bind(file.upload_id)
            .execute(&mut *tx)
            .await?;
        if let Some(entry) = file.history {
            Store::insert_history(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(Created::New(id))
    }

    pub async fn attachment(&self, id: &str) -> Result<Option<AttachmentRecord>, AttachmentError> {
        Ok(sqlx::query_as("SELECT * FROM attachments WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// A page of a parent's attachments, oldest first, after (created_at, id); with
    /// `with_messages`, a case's list also holds its messages' files.
    pub async fn list(
        &self,
        parent: &Parent,
        with_messages: bool,
        after: Option<(Millis, String)>,
        limit: i64,
    ) -> Result<Vec<AttachmentRecord>, AttachmentError> {
        let (after_time, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let messages = if with_messages { " OR (parent_kind = 'message' AND message_case_id = $2)" } else { "" };
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM attachments WHERE ((parent_kind = $1 AND parent_id = $2){messages}) \
             AND (created_at > $3 OR (created_at = $3 AND id > $4)) ORDER BY created_at, id LIMIT $5"
        )))
        .bind(parent.kind())
        .bind(parent.id())
        .bind(after_time)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// The files of these messages, oldest first.
    pub async fn of_messages(&self, message_ids: &[String]) -> Result<Vec<AttachmentRecord>, AttachmentError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=message_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT * FROM attachments WHERE parent_kind = 'message' AND parent_id IN ({}) ORDER BY created_at, id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in message_ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.db.pool).await?)
    }

    /// The `seq`th piece of a file's content, `None` past its end.
    pub async fn piece(&self, id: &str, seq: i64) -> Result<Option<Vec<u8>>, AttachmentError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND seq = $2")
                .bind(id)
                .bind(seq)
                .fetch_optional(&self.db.pool)
                .await?;
        row.map(|(data,)| STANDARD.decode(data).map_err(|e| AttachmentError::Corrupt(format!("attachment {id}: {e}"))))
            .transpose()
    }

    /// Deletes a file and its content, with the case history entry recording it; false
    /// when there was none.
    pub async fn delete(&self, id: &str, history: Option<&HistoryRecord>) -> Result<bool, AttachmentError> {
        let mut tx = self.db.begin().await?;
        let deleted = sqlx::query("DELETE FROM attachments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if deleted.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(entry) = history {
            Store::insert_history(&mut tx, entry).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
