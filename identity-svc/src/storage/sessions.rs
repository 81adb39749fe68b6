//! Sessions, looked up by the digest of their token.

use service_kit::clock::Millis;

use super::Store;
use crate::domain::{IdentityError, session::SessionState, user::UserKind};

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub token_digest: &'a str,
    pub user_id: &'a str,
    pub expires_at: Millis,
    pub idle_ms: Millis,
}

/// A session with the facts about its user that a call needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveSession {
    pub id: String,
    pub user_id: String,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub idle_timeout_ms: Millis,
    pub ended_at: Option<Millis>,
    pub kind: String,
    pub organization_id: Option<String>,
    /// 0 or 1 (see `UserRecord`).
    pub system_administrator: i16,
    pub active: i16,
    /// 1 for employees and for external users holding a licence seat.
    pub licensed: i16,
}

impl LiveSession {
    pub fn state(&self) -> SessionState {
        SessionState {
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            idle_ms: self.idle_timeout_ms,
            ended: self.ended_at.is_some(),
            user_active: self.active != 0 && self.licensed != 0,
        }
    }

    pub fn is_system_administrator(&self) -> bool {
        self.system_administrator != 0
    }

    pub fn kind(&self) -> UserKind {
        UserKind::from_stored(&self.kind)
    }
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.last_seen_at, s.expires_at, s.idle_timeout_ms, s.ended_at, u.kind, u.organization_id, \
     u.system_administrator, u.active, \
     CASE WHEN u.kind = 'employee' OR la.id IS NOT NULL THEN 1 ELSE 0 END AS licensed";

impl Store {
    pub async fn insert_session(&self, session: NewSession<'_>, now: Millis) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_digest, user_id, created_at, last_seen_at, expires_at, idle_timeout_ms) \
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(session.id)
        .bind(session.token_digest)
        .bind(session.user_id)
        .bind(now)
        .bind(session.expires_at)
        .bind(session.idle_ms)
        .execute(&self.db.writer)
        .await?;
        Ok(())
    }

    pub async fn session_by_digest(&self, token_digest: &str) -> Result<Option<LiveSession>, IdentityError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN licence_assignments la ON la.user_id = u.id WHERE s.token_digest = $1"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token_digest).fetch_optional(&self.db.pool).await?)
    }

    pub async fn session(&self, id: &str) -> Result<Option<LiveSession>, IdentityError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN licence_assignments la ON la.user_id = u.id WHERE s.id = $1"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Records activity on a session.
    pub async fn touch_session(&self, id: &str, now: Millis) -> Result<(), IdentityError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
            .bind(now)
            .bind(id)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }

    /// Ends every live session of `user_id` except `keep` (empty keeps none); returns how many ended.
    pub async fn end_user_sessions(
        connection: &mut sqlx::AnyConnection,
        user_id: &str,
        keep: &str,
        reason: &str,
        now: Millis,
    ) -> Result<u64, IdentityError> {
        Ok(sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND id <> $4 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .bind(keep)
        .execute(connection)
        .await?
        .rows_affected())
    }

    /// Ends a session; ending one that has ended already changes nothing.
    pub async fn end_session(&self, id: &str, reason: &str, now: Millis) -> Result<(), IdentityError> {
        sqlx::query("UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(id)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }
}
