//! Messages and complaints on cases.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::CaseError;

/// A message as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub case_id: String,
    pub author_user_id: String,
    pub author_kind: String,
    pub body: String,
    pub is_complaint: i16,
    pub created_at: i64,
}

impl Store {
    pub(super) async fn insert_message(conn: &mut AnyConnection, message: &MessageRecord) -> Result<(), CaseError> {
        sqlx::query(
            "INSERT INTO case_messages (id, case_id, author_user_id, author_kind, body, is_complaint, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&message.id)
        .bind(&message.case_id)
        .bind(&message.author_user_id)
        .bind(&message.author_kind)
        .bind(&message.body)
        .bind(message.is_complaint)
        .bind(message.created_at)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn message(&self, id: &str) -> Result<Option<MessageRecord>, CaseError> {
        Ok(sqlx::query_as("SELECT * FROM case_messages WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// A page of a case's messages by (created_at, id), ascending or descending.
    pub async fn list_messages(
        &self,
        case_id: &str,
        complaints_only: bool,
        newest_first: bool,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>, CaseError> {
        let (cmp, direction) = if newest_first { ("<", "DESC") } else { (">", "ASC") };
        let complaints = if complaints_only { " AND is_complaint = 1" } else { "" };
        let (at, id, keyset) = match after {
            Some((at, id)) => (at, id, format!(" AND (created_at {cmp} $2 OR (created_at = $2 AND id {cmp} $3))")),
            None => (0, String::new(), " AND $2 = $2 AND $3 = $3".to_owned()),
        };
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM case_messages WHERE case_id = $1{complaints}{keyset} \
             ORDER BY created_at {direction}, id {direction} LIMIT {limit}"
        )))
        .bind(case_id)
        .bind(at)
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
