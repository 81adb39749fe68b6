//! The authentication use cases: log in, resolve a session token, log out, and the
//! first start's system administrator. Rules come from `domain`, rows from `storage`.

use service_kit::{
    clock::{Clock, Millis},
    secrets,
};

use crate::{
    domain::{
        IdentityError, email,
        password::PasswordHasher,
        session::{SessionPolicy, TOKEN_BYTES},
        user::UserKind,
    },
    storage::{LiveSession, NewSession, NewUser, Store, UserRecord},
};

/// A session that Login opened.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub session_id: String,
    pub user_id: String,
    pub expires_at: Millis,
}

/// Logging in and resolving sessions.
#[derive(Debug, Clone)]
pub struct Auth {
    store: Store,
    hasher: PasswordHasher,
    policy: SessionPolicy,
    clock: Clock,
}

impl Auth {
    pub fn new(store: Store, hasher: PasswordHasher, policy: SessionPolicy, clock: Clock) -> Self {
        Self {
            store,
            hasher,
            policy,
            clock,
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Opens a session for a correct email and password. Every failure (unknown email,
    /// wrong password, no password yet, deactivated user) is the same answer after the
    /// same work, so the answer tells nothing about which accounts exist.
    pub async fn login(&self, email: &str, password: &str) -> Result<OpenedSession, IdentityError> {
        let user = match email::normalize(email) {
            Ok(normalized) => self.store.user_by_email(&normalized).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let verification = self.hasher.verify(password, stored).await?;
        let user = match user {
            Some(user) if verification.matched && user.is_active() => user,
            _ => return Err(IdentityError::InvalidCredentials),
        };
        let now = self.clock.now();
        if verification.needs_rehash {
            let rehashed = self.hasher.hash(password).await?;
            self.store
                .set_password_hash(&user.id, &rehashed, now)
                .await?;
        }
        let token = secrets::random_token(TOKEN_BYTES);
        let session_id = secrets::new_id();
        let expires_at = self.policy.expiry_from(now);
        self.store
            .insert_session(
                NewSession {
                    id: &session_id,
                    token_digest: &secrets::token_digest(&token),
                    user_id: &user.id,
                    expires_at,
                },
                now,
            )
            .await?;
        tracing::info!(user_id = %user.id, session_id = %session_id, "login");
        Ok(OpenedSession {
            token,
            session_id,
            user_id: user.id,
            expires_at,
        })
    }

    /// The live session behind `token`, recording the call as activity.
    pub async fn authenticate(&self, token: &str) -> Result<LiveSession, IdentityError> {
        let session = self
            .store
            .session_by_digest(&secrets::token_digest(token))
            .await?
            .ok_or(IdentityError::SessionInvalid)?;
        let now = self.clock.now();
        let state = session.state();
        if !self.policy.is_alive(&state, now) {
            return Err(IdentityError::SessionInvalid);
        }
        if self.policy.activity_due(&state, now) {
            self.store.touch_session(&session.id, now).await?;
        }
        Ok(session)
    }

    /// Ends a session.
    pub async fn logout(&self, session_id: &str) -> Result<(), IdentityError> {
        self.store
            .end_session(session_id, "logout", self.clock.now())
            .await
    }

    /// The user and session a logged-in caller is.
    pub async fn who_am_i(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(UserRecord, LiveSession), IdentityError> {
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let session = self
            .store
            .session(session_id)
            .await?
            .ok_or(IdentityError::SessionInvalid)?;
        if session.user_id != user.id || !self.policy.is_alive(&session.state(), self.clock.now()) {
            return Err(IdentityError::SessionInvalid);
        }
        Ok((user, session))
    }

    /// On the first start of an empty database, creates the system administrator. The
    /// password is the configured one, or a random one returned so it can be shown once.
    /// Several replicas starting together create one administrator between them.
    pub async fn ensure_system_administrator(
        &self,
        admin_email: &str,
        configured_password: &str,
    ) -> Result<Option<String>, IdentityError> {
        if self.store.has_system_administrator().await? {
            return Ok(None);
        }
        let normalized = email::normalize(admin_email).map_err(|problem| {
            IdentityError::Configuration(format!("bootstrap.admin_email '{admin_email}' {problem}"))
        })?;
        let password = if configured_password.is_empty() {
            secrets::random_token(18)
        } else {
            configured_password.to_owned()
        };
        let hash = self.hasher.hash(&password).await?;
        let created = self
            .store
            .create_user(
                NewUser {
                    email: admin_email.trim(),
                    email_normalized: &normalized,
                    full_name: "System administrator",
                    kind: UserKind::Employee,
                    system_administrator: true,
                    password_hash: Some(&hash),
                },
                self.clock.now(),
            )
            .await?;
        Ok(created.map(|_| password))
    }
}
