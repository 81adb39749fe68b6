//! The authentication use cases: log in (with brute-force protection), resolve a
//! session token, log out, change one's password, and the first start's system
//! administrator. Rules come from `domain`, rows from `storage`.

use service_kit::{
    Caller,
    clock::{Clock, Millis},
    secrets,
};

use crate::{
    domain::{
        IdentityError,
        brute_force::{self, Throttle},
        email,
        password::PasswordHasher,
        password_policy::{self, PasswordRejection},
        session::TOKEN_BYTES,
        settings::Effective,
        user::UserKind,
    },
    storage::{AuditEntry, Insertion, LiveSession, NewSession, NewUser, Store, UserRecord},
    system_settings::SystemSettings,
};

/// A session that Login opened.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub session_id: String,
    pub user_id: String,
    pub expires_at: Millis,
    pub idle_ms: Millis,
}

/// Logging in and resolving sessions.
#[derive(Debug, Clone)]
pub struct Auth {
    store: Store,
    hasher: PasswordHasher,
    settings: SystemSettings,
    clock: Clock,
}

impl Auth {
    pub fn new(store: Store, hasher: PasswordHasher, settings: SystemSettings, clock: Clock) -> Self {
        Self { store, hasher, settings, clock }
    }

    /// Opens a session for a correct email and password.
    pub async fn login(&self, email: &str, password: &str, caller: &Caller) -> Result<OpenedSession, IdentityError> {
        let settings = self.settings.current().await?;
        let user = self.check_credentials(&settings, email, password, caller).await?;
        self.open_session(&settings, user.id).await
    }

    /// Opens a session for a user whose credentials were just established (a login, or
    /// a redeemed invitation).
    pub async fn open_session(&self, settings: &Effective, user_id: String) -> Result<OpenedSession, IdentityError> {
        let now = self.clock.now();
        let token = secrets::random_token(TOKEN_BYTES);
        let session_id = secrets::new_id();
        let expires_at = now + settings.session_absolute_lifetime * 1000;
        let idle_ms = settings.session_idle_lifetime * 1000;
        self.store
            .insert_session(
                NewSession {
                    id: &session_id,
                    token_digest: &secrets::token_digest(&token),
                    user_id: &user_id,
                    expires_at,
                    idle_ms,
                },
                now,
            )
            .await?;
        tracing::info!(%user_id, session_id = %session_id, "login");
        Ok(OpenedSession { token, session_id, user_id, expires_at, idle_ms })
    }

    /// The active user with this email and password. Every failure (unknown email, wrong
    /// password, no password yet, deactivated user, attempts refused by brute-force
    /// protection) is the same answer, so the answer tells nothing about which accounts
    /// exist. The attempt is counted before the password is verified, so a parallel burst
    /// verifies at most the threshold's worth; an unknown email costs the same
    /// verification as a known one. Verifications that fail and refused attempts are
    /// audited (`user.login_failed`, `user.login_refused`).
    async fn check_credentials(
        &self,
        settings: &Effective,
        email: &str,
        password: &str,
        caller: &Caller,
    ) -> Result<UserRecord, IdentityError> {
        let throttle = Throttle {
            account_threshold: settings.stored.brute_force_threshold,
            address_threshold: settings.stored.brute_force_address_threshold,
            max_delay_ms: settings.stored.brute_force_max_delay * 1000,
        };
        let normalized = email::normalize(email).ok();
        let account = normalized.clone().unwrap_or_else(|| email.trim().to_lowercase());
        let now = self.clock.now();
        let counters = brute_force::login_counters(&account, &caller.client_address);
        let Some(reservation) = self.store.reserve_attempt(&counters, throttle, now).await? else {
            self.audit_login(caller, "user.login_refused", &account, None, now).await?;
            return Err(IdentityError::InvalidCredentials);
        };
        let user = match &normalized {
            Some(normalized) => self.store.user_by_email(normalized).await?,
            None => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let verification = self.hasher.verify(password, stored).await?;
        let user = match user {
            Some(user) if verification.matched && user.may_log_in() => user,
            user => {
                self.audit_login(caller, "user.login_failed", &account, user.as_ref(), now).await?;
                return Err(IdentityError::InvalidCredentials);
            }
        };
        self.store.release_attempt(&reservation, throttle).await?;
        if verification.needs_rehash {
            let rehashed = self.hasher.hash(password).await?;
            let mut tx = self.store.begin().await?;
            Store::set_password_hash(&mut tx, &user.id, &rehashed, now).await?;
            tx.commit().await?;
        }
        Ok(user)
    }

    /// Records a login attempt that did not log in: for `user` when the email has one.
    async fn audit_login(
        &self,
        caller: &Caller,
        action: &str,
        account: &str,
        user: Option<&UserRecord>,
        now: Millis,
    ) -> Result<(), IdentityError> {
        let mut tx = self.store.begin().await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action,
                resource_type: "user",
                resource_id: user.map(|u| u.id.as_str()).unwrap_or_default(),
                organization_id: user.and_then(|u| u.organization_id.as_deref()).unwrap_or_default(),
                before_json: String::new(),
                after_json: serde_json::json!({ "email": account, "client_address": caller.client_address })
                    .to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session behind `token`, recording the call as activity.
    pub async fn authenticate(&self, token: &str) -> Result<LiveSession, IdentityError> {
        let session =
            self.store.session_by_digest(&secrets::token_digest(token)).await?.ok_or(IdentityError::SessionInvalid)?;
        let now = self.clock.now();
        let state = session.state();
        if !state.is_alive(now) {
            return Err(IdentityError::SessionInvalid);
        }
        if state.activity_due(now) {
            self.store.touch_session(&session.id, now).await?;
        }
        Ok(session)
    }

    /// Ends a session.
    pub async fn logout(&self, session_id: &str) -> Result<(), IdentityError> {
        self.store.end_session(session_id, "logout", self.clock.now()).await
    }

    /// The user and session a logged-in caller is.
    pub async fn who_am_i(&self, user_id: &str, session_id: &str) -> Result<(UserRecord, LiveSession), IdentityError> {
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let session = self.store.session(session_id).await?.ok_or(IdentityError::SessionInvalid)?;
        if session.user_id != user.id || !session.state().is_alive(self.clock.now()) {
            return Err(IdentityError::SessionInvalid);
        }
        Ok((user, session))
    }

    /// Changes the caller's password after checking the current one (a wrong current
    /// password counts as a failed login), and ends the caller's other sessions.
    /// Returns how many sessions ended.
    pub async fn change_password(&self, caller: &Caller, current: &str, new: &str) -> Result<u64, IdentityError> {
        let user = self
            .store
            .user(&caller.user_id)
            .await?
            .ok_or_else(|| IdentityError::UserNotFound(caller.user_id.clone()))?;
        password_policy::check(new, &user.email)
            .and_then(|()| if new == current { Err(PasswordRejection::Unchanged) } else { Ok(()) })
            .map_err(|rejection| IdentityError::PasswordRejected { field: "new_password", rejection })?;
        let settings = self.settings.current().await?;
        if let Err(error) = self.check_credentials(&settings, &user.email, current, caller).await {
            return Err(match error {
                IdentityError::InvalidCredentials => IdentityError::WrongCurrentPassword,
                other => other,
            });
        }
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::set_password_hash(&mut tx, &user.id, &hash, now).await?;
        let ended = Store::end_user_sessions(&mut tx, &user.id, &caller.session_id, "password_change", now).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "user.password_change",
                resource_type: "user",
                resource_id: &user.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: String::new(),
                after_json: format!("{{\"ended_sessions\":{ended}}}"),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
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
        let password =
            if configured_password.is_empty() { secrets::random_token(18) } else { configured_password.to_owned() };
        let hash = self.hasher.hash(&password).await?;
        let mut tx = self.store.begin().await?;
        let created = Store::insert_user(
            &mut tx,
            &NewUser {
                id: &secrets::new_id(),
                contact_id: None,
                email: admin_email.trim(),
                email_normalized: &normalized,
                full_name: "System administrator",
                kind: UserKind::Employee,
                system_administrator: true,
                password_hash: Some(&hash),
                culture: "en-US",
                home_page: "MainPage",
                origin: "bootstrap",
                organization_id: None,
                organization_administrator: false,
                account_id: None,
            },
            self.clock.now(),
        )
        .await?;
        if created != Insertion::Created {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(password))
    }
}
