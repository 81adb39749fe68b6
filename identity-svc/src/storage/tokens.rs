//! One-time tokens of emailed links, invitations and pending registrations. Tokens are
//! found by the SHA-256 of their text and consumed with one conditional UPDATE, so of
//! concurrent uses exactly one wins.

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::Store;
use crate::domain::{
    IdentityError,
    tokens::{Purpose, TokenState},
};

/// A token as stored (its text is never stored).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: String,
    pub purpose: String,
    pub user_id: Option<String>,
    pub email_normalized: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub consumed_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub revoke_reason: Option<String>,
}

impl TokenRecord {
    /// What the token is worth at `now`.
    pub fn state(&self, now: Millis) -> TokenState {
        TokenState::of(self.consumed_at, self.revoked_at, self.expires_at, now)
    }
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub id: &'a str,
    pub digest: &'a str,
    pub purpose: Purpose,
    pub user_id: Option<&'a str>,
    pub email_normalized: &'a str,
    pub expires_at: Millis,
}

/// An invitation with its token's state and its email's delivery id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRecord {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub organization_id: String,
    pub sent_by_user_id: String,
    pub password_generated: i16,
    pub replaced_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub consumed_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub revoke_reason: Option<String>,
    pub delivery_id: Option<String>,
}

impl InvitationRecord {
    pub fn state(&self, now: Millis) -> TokenState {
        TokenState::of(self.consumed_at, self.revoked_at, self.expires_at, now)
    }
}

/// An invitation to record with its token.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub organization_id: &'a str,
    pub sent_by_user_id: &'a str,
    pub outbox_id: &'a str,
}

/// Filters and position of the invitation listing; empty strings match everything.
#[derive(Debug, Clone, Default)]
pub struct InvitationFilter {
    pub user_id: String,
    pub organization_id: String,
    pub from: Option<Millis>,
    pub until: Option<Millis>,
    /// Only these states; empty means all.
    pub states: Vec<TokenState>,
    /// The instant expiry is judged at.
    pub now: Millis,
    /// Keyset position: invitations strictly older than (time, id).
    pub before: Option<(Millis, String)>,
}

/// A registration waiting for confirmation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRecord {
    pub id: String,
    pub email: String,
    pub email_normalized: String,
    pub full_name: String,
    pub culture: String,
    pub password_hash: String,
}

const TOKEN_SELECT: &str = "SELECT id, purpose, user_id, email_normalized, created_at, expires_at, consumed_at, \
     revoked_at, revoke_reason FROM tokens";

const INVITATION_SELECT: &str = "SELECT i.id, i.user_id, i.email, i.organization_id, i.sent_by_user_id, \
     i.password_generated, i.replaced_by, i.created_at, t.expires_at, t.consumed_at, t.revoked_at, t.revoke_reason, \
     o.delivery_id FROM invitations i JOIN tokens t ON t.id = i.id LEFT JOIN mail_outbox o ON o.id = i.outbox_id";

impl Store {
    /// Stores a new token.
    pub async fn insert_token(
        connection: &mut AnyConnection,
        token: &NewToken<'_>,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO tokens (id, digest, purpose, user_id, email_normalized, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id)
        .bind(token.digest)
        .bind(token.purpose.as_str())
        .bind(token.user_id)
        .bind(token.email_normalized)
        .bind(now)
        .bind(token.expires_at)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// The token whose text has this digest, if it was issued for `purpose`.
    pub async fn token_by_digest(&self, digest: &str, purpose: Purpose) -> Result<Option<TokenRecord>, IdentityError> {
        let sql = format!("{TOKEN_SELECT} WHERE digest = $1 AND purpose = $2");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .bind(purpose.as_str())
            .fetch_optional(&self.db.pool)
            .await?)
    }

    pub async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>, IdentityError> {
        let sql = format!("{TOKEN_SELECT} WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Spends a token if it is still usable at `now`; false when another use won, or it
    /// was revoked or has expired meanwhile.
    pub async fn consume_token(connection: &mut AnyConnection, id: &str, now: Millis) -> Result<bool, IdentityError> {
        let consumed = sqlx::query(
            "UPDATE tokens SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL AND revoked_at IS NULL \
             AND expires_at > $1",
        )
        .bind(now)
        .bind(id)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(consumed == 1)
    }

    /// Revokes the live (unused, unrevoked, unexpired) tokens of `purpose` for a user, or
    /// for an address when `user_id` is `None`; returns their ids.
    pub async fn revoke_live_tokens(
        connection: &mut AnyConnection,
        purpose: Purpose,
        user_id: Option<&str>,
        email_normalized: &str,
        reason: &str,
        now: Millis,
    ) -> Result<Vec<String>, IdentityError> {
        let revoked: Vec<(String,)> = sqlx::query_as(
            "UPDATE tokens SET revoked_at = $1, revoke_reason = $2 WHERE purpose = $3 \
             AND ((user_id IS NOT NULL AND user_id = $4) OR (user_id IS NULL AND $4 = '' AND email_normalized = $5)) \
             AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING id",
        )
        .bind(now)
        .bind(reason)
        .bind(purpose.as_str())
        .bind(user_id.unwrap_or_default())
        .bind(email_normalized)
        .fetch_all(connection)
        .await?;
        Ok(revoked.into_iter().map(|(id,)| id).collect())
    }

    /// Revokes every live token of a user, whatever its purpose (for callers that
    /// deactivate a user, change their email or release their licence).
    pub async fn revoke_user_tokens(
        connection: &mut AnyConnection,
        user_id: &str,
        reason: &str,
        now: Millis,
    ) -> Result<u64, IdentityError> {
        Ok(sqlx::query(
            "UPDATE tokens SET revoked_at = $1, revoke_reason = $2 WHERE user_id = $3 AND consumed_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .execute(connection)
        .await?
        .rows_affected())
    }

    /// Records an invitation whose token was just stored.
    pub async fn insert_invitation(
        connection: &mut AnyConnection,
        invitation: &NewInvitation<'_>,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO invitations (id, user_id, email, organization_id, sent_by_user_id, outbox_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(invitation.id)
        .bind(invitation.user_id)
        .bind(invitation.email)
        .bind(invitation.organization_id)
        .bind(invitation.sent_by_user_id)
        .bind(invitation.outbox_id)
        .bind(now)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// Points replaced invitations at the one that replaced them.
    pub async fn mark_replaced(
        connection: &mut AnyConnection,
        replaced: &[String],
        by: &str,
    ) -> Result<(), IdentityError> {
        for id in replaced {
            sqlx::query("UPDATE invitations SET replaced_by = $1 WHERE id = $2")
                .bind(by)
                .bind(id)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    /// Records whether the password was generated when the invitation was accepted.
    pub async fn set_password_generated(
        connection: &mut AnyConnection,
        id: &str,
        generated: bool,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE invitations SET password_generated = $1 WHERE id = $2")
            .bind(i16::from(generated))
            .bind(id)
            .execute(connection)
            .await?;
        Ok(())
    }

    /// Revokes a token if it is still usable; false otherwise.
    pub async fn revoke_token(
        connection: &mut AnyConnection,
        id: &str,
        reason: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND consumed_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(revoked == 1)
    }

    pub async fn invitation(&self, id: &str) -> Result<Option<InvitationRecord>, IdentityError> {
        let sql = format!("{INVITATION_SELECT} WHERE i.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Up to `limit` invitations matching `filter`, newest first.
    pub async fn invitations(
        &self,
        filter: &InvitationFilter,
        limit: i64,
    ) -> Result<Vec<InvitationRecord>, IdentityError> {
        let (before_time, before_id) = filter.before.clone().unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "{INVITATION_SELECT} WHERE ($1 = '' OR i.user_id = $1) AND ($2 = '' OR i.organization_id = $2) \
             AND i.created_at >= $3 AND i.created_at < $4 \
             AND (i.created_at < $5 OR (i.created_at = $5 AND ($6 = '' OR i.id < $6))) \
             AND (($8 = 1 AND t.consumed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $12) \
               OR ($9 = 1 AND t.consumed_at IS NOT NULL) \
               OR ($10 = 1 AND t.consumed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at <= $12) \
               OR ($11 = 1 AND t.consumed_at IS NULL AND t.revoked_at IS NOT NULL)) \
             ORDER BY i.created_at DESC, i.id DESC LIMIT $7"
        );
        let wanted = |state: TokenState| i16::from(filter.states.is_empty() || filter.states.contains(&state));
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.user_id)
            .bind(&filter.organization_id)
            .bind(filter.from.unwrap_or(i64::MIN))
            .bind(filter.until.unwrap_or(i64::MAX))
            .bind(before_time)
            .bind(before_id)
            .bind(limit)
            .bind(wanted(TokenState::Live))
            .bind(wanted(TokenState::Consumed))
            .bind(wanted(TokenState::Expired))
            .bind(wanted(TokenState::Revoked))
            .bind(filter.now)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Records a registration whose token was just stored.
    pub async fn insert_registration(
        connection: &mut AnyConnection,
        registration: &RegistrationRecord,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO registrations (id, email, email_normalized, full_name, culture, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&registration.id)
        .bind(&registration.email)
        .bind(&registration.email_normalized)
        .bind(&registration.full_name)
        .bind(&registration.culture)
        .bind(&registration.password_hash)
        .bind(now)
        .execute(connection)
        .await?;
        Ok(())
    }

    pub async fn registration(&self, id: &str) -> Result<Option<RegistrationRecord>, IdentityError> {
        Ok(sqlx::query_as(
            "SELECT id, email, email_normalized, full_name, culture, password_hash FROM registrations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// The one contact with this email that has no user yet, if there is exactly one.
    pub async fn single_free_contact(&self, email_normalized: &str) -> Result<Option<String>, IdentityError> {
        let free: Vec<(String,)> = sqlx::query_as(
            "SELECT c.id FROM contacts c WHERE lower(c.email) = $1 \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.contact_id = c.id) LIMIT 2",
        )
        .bind(email_normalized)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(if free.len() == 1 { free.into_iter().next().map(|(id,)| id) } else { None })
    }
}
