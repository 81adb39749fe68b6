//! Password recovery: "forgot password" emails a single-use, expiring link to an active
//! account and does nothing otherwise, answering the same way in the same time; the
//! link sets a new password, ends every session of the user and clears their failed
//! login count.

use std::time::Duration;

use service_kit::{clock::Clock, secrets};

use crate::{
    domain::{
        IdentityError,
        brute_force::{self, Scope},
        email,
        password::PasswordHasher,
        password_policy,
        tokens::Purpose,
    },
    mail_outbox::Mailer,
    storage::{AuditEntry, Store},
    system_settings::SystemSettings,
    tokens::{self, Binding, LinkEmail},
};

/// RequestPasswordRecovery answers no sooner than this after it started, so whether an
/// email went out does not show in how long the answer took. Both paths do the same
/// reads and a transaction; the floor absorbs the writes only one of them makes.
const ANSWER_FLOOR: Duration = Duration::from_millis(150);

/// The recovery use cases.
#[derive(Debug, Clone)]
pub struct Recovery {
    store: Store,
    hasher: PasswordHasher,
    settings: SystemSettings,
    clock: Clock,
    mailer: Mailer,
}

impl Recovery {
    pub fn new(store: Store, hasher: PasswordHasher, settings: SystemSettings, clock: Clock, mailer: Mailer) -> Self {
        Self { store, hasher, settings, clock, mailer }
    }

    /// Emails a recovery link if `address` belongs to an active user who may log in, and
    /// revokes their earlier unused links; does nothing visible otherwise. Too many
    /// requests from one client address or for one email are refused, whoever asks.
    pub async fn request(&self, address: &str, client_address: &str) -> Result<(), IdentityError> {
        let started = tokio::time::Instant::now();
        let normalized = email::normalize(address)
            .map_err(|problem| IdentityError::InvalidBecause("email", problem, "INVALID_EMAIL"))?;
        tokens::limit_mail_request(&self.store, client_address, &normalized, self.clock.now()).await?;
        let settings = self.settings.current().await?;
        let user = self.store.user_by_email(&normalized).await?.filter(|user| user.may_log_in());
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if let Some(user) = &user {
            Store::revoke_live_tokens(&mut tx, Purpose::Recovery, Some(&user.id), &normalized, "replaced", now).await?;
            tokens::issue(
                &mut tx,
                Binding {
                    purpose: Purpose::Recovery,
                    user_id: Some(&user.id),
                    email_normalized: &normalized,
                    lifetime_seconds: settings.stored.recovery_token_lifetime,
                },
                &settings.public_base_url,
                LinkEmail {
                    recipient_email: &user.email,
                    recipient_name: &user.full_name,
                    culture: &user.culture,
                    template_code: &settings.stored.portal_recovery_password_email_template,
                    link_macro: crate::domain::settings::RECOVERY_LINK_MACRO,
                },
                now,
            )
            .await?;
        } else {
            // The same amount of randomness and hashing as a real link costs.
            let _ = secrets::token_digest(&secrets::random_token(crate::domain::tokens::TOKEN_BYTES));
        }
        tx.commit().await?;
        if user.is_some() {
            self.mailer.wake();
        }
        tokio::time::sleep_until(started + ANSWER_FLOOR).await;
        Ok(())
    }

    /// Sets a new password with a recovery link, spends it, ends every session of the
    /// user and clears their failed logins. Returns the user's email.
    pub async fn reset(&self, token: &str, new_password: &str, client_address: &str) -> Result<String, IdentityError> {
        let record = tokens::find(&self.store, Purpose::Recovery, token, client_address, self.clock.now()).await?;
        record.state(self.clock.now()).usable(Purpose::Recovery)?;
        let user = tokens::holder(&self.store, &record, Purpose::Recovery).await?;
        // A refused password does not spend the link.
        password_policy::check(new_password, &user.email)
            .map_err(|rejection| IdentityError::PasswordRejected { field: "new_password", rejection })?;
        let hash = self.hasher.hash(new_password).await?;
        let now = self.clock.now();
        let actor = tokens::acting_as(&user, client_address);
        let mut tx = self.store.begin().await?;
        if !Store::consume_token(&mut tx, &record.id, now).await? {
            drop(tx);
            return Err(tokens::refusal_after_race(&self.store, &record, now).await);
        }
        Store::set_password_hash(&mut tx, &user.id, &hash, now).await?;
        let ended = Store::end_user_sessions(&mut tx, &user.id, "", "password_recovery", now).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: &actor,
                action: "user.password_reset",
                resource_type: "user",
                resource_id: &user.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: String::new(),
                after_json: serde_json::json!({ "ended_sessions": ended, "recovery_token_id": record.id }).to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        // The owner is back in: their failures from everywhere, and from this address, are forgotten.
        self.store.clear_failures(Scope::Account, &record.email_normalized).await?;
        let from_here = brute_force::account_address(&record.email_normalized, client_address);
        self.store.clear_failures(Scope::AccountAddress, &from_here).await?;
        Ok(user.email)
    }
}
