//! The self-registration use cases: Register (emails a confirmation link, or an "you
//! already have an account" email, and answers the same either way) and
//! ConfirmRegistration (creates the external user with a seat of the configured
//! product). Nothing is created until the link is confirmed.

use std::time::Duration;

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    domain::{IdentityError, email, password::PasswordHasher, password_policy, tokens::Purpose, user::UserKind},
    mail_outbox::Mailer,
    storage::{AuditEntry, Insertion, NewUser, OutgoingEmail, RegistrationRecord, Store},
    system_settings::SystemSettings,
    tokens::{self, Binding, LinkEmail},
};

/// Register answers no sooner than this after it started, so whether the email was
/// known does not show in how long the answer took (both paths hash the password and
/// write one transaction; the floor absorbs what differs).
const ANSWER_FLOOR: Duration = Duration::from_millis(150);

/// A registration to start, as the adapter read it.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub culture: String,
    /// Where the request came from, for the per-address limit.
    pub client_address: String,
}

/// A confirmed registration.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub user_id: String,
    pub email: String,
}

/// A BCP 47 tag of the shape the portal uses: `de`, `de-DE`, `zh-Hant-TW`.
pub fn is_culture(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary = subtags.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.all(|s| (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The self-registration use cases.
#[derive(Debug, Clone)]
pub struct Registrations {
    store: Store,
    hasher: PasswordHasher,
    settings: SystemSettings,
    clock: Clock,
    mailer: Mailer,
}

fn disabled() -> IdentityError {
    IdentityError::Refused(
        "SELF_REGISTRATION_DISABLED",
        "self-registration is turned off on this portal: ask an administrator for an invitation".into(),
    )
}

impl Registrations {
    pub fn new(store: Store, hasher: PasswordHasher, settings: SystemSettings, clock: Clock, mailer: Mailer) -> Self {
        Self { store, hasher, settings, clock, mailer }
    }

    /// Starts a registration. The answer (and its timing) is the same whether or not the
    /// email belongs to a user; an existing user gets an "already registered" email.
    pub async fn register(&self, request: Registration) -> Result<(), IdentityError> {
        let started = tokio::time::Instant::now();
        let settings = self.settings.current().await?;
        if !settings.stored.self_registration_enabled {
            return Err(disabled());
        }
        let normalized = email::normalize(&request.email)
            .map_err(|problem| IdentityError::InvalidBecause("email", problem, "INVALID_EMAIL"))?;
        password_policy::check(&request.password, &request.email)
            .map_err(|rejection| IdentityError::PasswordRejected { field: "password", rejection })?;
        let mut problems = Vec::new();
        if request.full_name.chars().count() > 250 {
            problems.push(("full_name", "must be at most 250 characters".to_owned()));
        }
        let culture =
            if request.culture.trim().is_empty() { "en-US".to_owned() } else { request.culture.trim().to_owned() };
        if !is_culture(&culture) {
            problems.push(("culture", "must be a BCP 47 tag such as en-US or de-DE".to_owned()));
        }
        if !problems.is_empty() {
            return Err(IdentityError::Invalid(problems));
        }
        tokens::limit_mail_request(&self.store, &request.client_address, &normalized, self.clock.now()).await?;
        let email = request.email.trim().to_owned();
        let full_name = match request.full_name.trim() {
            "" => email.split('@').next().unwrap_or_default().to_owned(),
            name => name.to_owned(),
        };
        // Hashed on both paths, so both take the time of one hash.
        let password_hash = self.hasher.hash(&request.password).await?;
        let existing = self.store.user_by_email(&normalized).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        match existing {
            Some(user) => {
                let mut macro_values = std::collections::BTreeMap::new();
                macro_values.insert(
                    crate::domain::settings::LOGIN_URL_MACRO,
                    format!("{}/login", settings.public_base_url.trim_end_matches('/')),
                );
                macro_values.insert("ContactName", user.full_name.clone());
                macro_values.insert("Email", user.email.clone());
                Store::queue_email(
                    &mut tx,
                    &OutgoingEmail {
                        recipient_email: &user.email,
                        recipient_name: &user.full_name,
                        culture: &user.culture,
                        template_code: &settings.stored.portal_existing_account_email_template,
                        macro_values,
                    },
                    now,
                )
                .await?;
            }
            None => {
                Store::revoke_live_tokens(&mut tx, Purpose::Confirmation, None, &normalized, "replaced", now).await?;
                let issued = tokens::issue(
                    &mut tx,
                    Binding {
                        purpose: Purpose::Confirmation,
                        user_id: None,
                        email_normalized: &normalized,
                        lifetime_seconds: settings.stored.confirmation_token_lifetime,
                    },
                    &settings.public_base_url,
                    LinkEmail {
                        recipient_email: &email,
                        recipient_name: &full_name,
                        culture: &culture,
                        template_code: &settings.stored.portal_registration_email_template,
                        link_macro: crate::domain::settings::CONFIRMATION_LINK_MACRO,
                    },
                    now,
                )
                .await?;
                let registration = RegistrationRecord {
                    id: issued.token_id,
                    email: email.clone(),
                    email_normalized: normalized.clone(),
                    full_name,
                    culture,
                    password_hash,
                };
                Store::insert_registration(&mut tx, &registration, now).await?;
            }
        }
        tx.commit().await?;
        self.mailer.wake();
        tokio::time::sleep_until(started + ANSWER_FLOOR).await;
        Ok(())
    }

    /// Confirms a registration: creates the external user with a seat of the
    /// SspUserRegistrationLicPackage product. Without a free seat nothing is created and
    /// the link stays usable.
    pub async fn confirm(&self, token: &str, client_address: &str) -> Result<Confirmed, IdentityError> {
        let record = tokens::find(&self.store, Purpose::Confirmation, token, client_address, self.clock.now()).await?;
        record.state(self.clock.now()).usable(Purpose::Confirmation)?;
        let settings = self.settings.current().await?;
        if !settings.stored.self_registration_enabled {
            return Err(disabled());
        }
        let wanted = settings.stored.ssp_user_registration_lic_package.clone();
        let no_product = || {
            IdentityError::Refused(
                "NO_LICENCE_PRODUCT",
                "self-registration has no licence product: an administrator must set SspUserRegistrationLicPackage"
                    .into(),
            )
        };
        if wanted.is_empty() {
            return Err(no_product());
        }
        let product = self.store.licence_product(&wanted).await?.ok_or_else(no_product)?;
        let registration =
            self.store.registration(&record.id).await?.ok_or_else(|| {
                IdentityError::Corrupt(format!("confirmation token {} has no registration", record.id))
            })?;
        let contact_id = self.store.single_free_contact(&registration.email_normalized).await?;
        // The settings check the roles when they are saved; one deleted since is skipped.
        let mut default_roles = Vec::new();
        for role_id in &settings.stored.self_registration_default_role_ids {
            match self.store.role(role_id).await? {
                Some(_) => default_roles.push(role_id.clone()),
                None => tracing::warn!(%role_id, "a self-registration default role no longer exists; skipped"),
            }
        }
        let user_id = secrets::new_id();
        let now = self.clock.now();
        let actor = Caller { client_address: client_address.to_owned(), ..Caller::anonymous() };
        let mut tx = self.store.begin().await?;
        if !Store::consume_token(&mut tx, &record.id, now).await? {
            drop(tx);
            return Err(tokens::refusal_after_race(&self.store, &record, now).await);
        }
        let user = NewUser {
            id: &user_id,
            contact_id: contact_id.as_deref(),
            email: &registration.email,
            email_normalized: &registration.email_normalized,
            full_name: &registration.full_name,
            kind: UserKind::External,
            system_administrator: false,
            password_hash: Some(&registration.password_hash),
            culture: &registration.culture,
            home_page: &settings.stored.portal_start_page,
            origin: "self_registration",
            organization_id: None,
            organization_administrator: false,
            account_id: None,
        };
        match Store::insert_user(&mut tx, &user, now).await? {
            Insertion::Created => {}
            Insertion::EmailTaken | Insertion::ContactTaken => {
                // Someone got the email meanwhile: the link is spent, nothing else is kept.
                drop(tx);
                let mut tx = self.store.begin().await?;
                Store::consume_token(&mut tx, &record.id, now).await?;
                tx.commit().await?;
                return Err(IdentityError::EmailAlreadyUsed(registration.email));
            }
        }
        if Store::take_seat(&mut tx, &user_id, &product.id, "self_registration", now).await?.is_none() {
            return Err(IdentityError::NoFreeSeat(product.id));
        }
        for role_id in &default_roles {
            Store::add_membership(&mut tx, role_id, &user_id, "self_registration", now).await?;
        }
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: &actor,
                action: "user.self_register",
                resource_type: "user",
                resource_id: &user_id,
                organization_id: "",
                before_json: String::new(),
                after_json: serde_json::json!({
                    "id": user_id, "email": registration.email, "kind": "external",
                    "licence_product_id": product.id, "contact_id": contact_id, "role_ids": default_roles,
                })
                .to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Confirmed { user_id, email: registration.email })
    }
}
