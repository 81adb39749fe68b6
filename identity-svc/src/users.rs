//! The user use cases: create one user by hand (with its licence seat), read, deactivate
//! and reactivate. Each change is one transaction with its audit event.

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::Authority,
    domain::{IdentityError, email, password::PasswordHasher, password_policy, user::UserKind},
    invitations::Invitations,
    roles::Roles,
    storage::{AuditEntry, Insertion, NewUser, Store, UserFilter, UserRecord},
    system_settings::SystemSettings,
};

/// What CreateUser asks for, validated field by field by the adapter.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub email: String,
    pub kind: Option<UserKind>,
    pub contact_id: String,
    pub new_contact_full_name: String,
    pub password: String,
    pub licence_product_id: String,
    pub culture: String,
    pub home_page: String,
    pub organization_id: String,
    pub role_ids: Vec<String>,
    pub organization_administrator: bool,
    pub system_administrator: bool,
    pub send_invitation: bool,
    pub request_id: String,
}

/// What UpdateUser changes: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub culture: Option<String>,
    pub home_page: Option<String>,
    pub email: Option<String>,
    /// `Some("")` takes the user out of their organization.
    pub organization_id: Option<String>,
    pub system_administrator: Option<bool>,
}

/// The audit form of a user: what changed, never the password hash.
pub fn snapshot(user: &UserRecord) -> String {
    serde_json::json!({
        "id": user.id,
        "email": user.email,
        "kind": user.kind,
        "contact_id": user.contact_id,
        "active": user.is_active(),
        "system_administrator": user.is_system_administrator(),
        "organization_id": user.organization_id,
        "licence_product_id": user.licence_product_id,
        "culture": user.culture,
        "home_page": user.home_page,
    })
    .to_string()
}

fn valid_culture(culture: &str) -> bool {
    let mut parts = culture.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The user use cases.
#[derive(Debug, Clone)]
pub struct Users {
    store: Store,
    hasher: PasswordHasher,
    settings: SystemSettings,
    roles: Roles,
    invitations: Invitations,
    clock: Clock,
    authority: Authority,
}

impl Users {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        settings: SystemSettings,
        roles: Roles,
        invitations: Invitations,
        clock: Clock,
        authority: Authority,
    ) -> Self {
        Self { store, hasher, settings, roles, invitations, clock, authority }
    }

    /// A user the caller may see; others are NOT_FOUND, as if they did not exist.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let user = self
            .store
            .user(id)
            .await?
            .filter(|user| actor.may_read_user(user.as_target()))
            .ok_or_else(|| IdentityError::UserNotFound(id.to_owned()))?;
        self.store.with_role_ids(user).await
    }

    /// The user `id` if the caller may manage them: NOT_FOUND when they may not even see
    /// them, PERMISSION_DENIED when they may see but not manage them.
    async fn managed_user(&self, caller: &Caller, id: &str) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let user = self
            .store
            .user(id)
            .await?
            .filter(|user| actor.may_read_user(user.as_target()))
            .ok_or_else(|| IdentityError::UserNotFound(id.to_owned()))?;
        if actor.may_manage_user(user.as_target()) {
            Ok(user)
        } else {
            Err(IdentityError::NotAllowed("you may not change this user"))
        }
    }

    /// Creates one user by hand, with a seat of the named licence product for an external
    /// user. Nothing is created when any part fails (no seat, email taken, …).
    pub async fn create(&self, caller: &Caller, mut request: CreateUser) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let employee = request.kind != Some(UserKind::External) || request.system_administrator;
        if !actor.may_manage_everything() || (employee && !actor.caller.system_administrator) {
            return Err(IdentityError::NotAllowed(
                "only system and portal user administrators create users one by one (employees: system \
                 administrators); organization administrators use AddUsersByEmail",
            ));
        }
        let idempotency_key =
            (!request.request_id.is_empty()).then(|| format!("{}/{}", caller.user_id, request.request_id));
        if let Some(key) = &idempotency_key
            && let Some(existing) = self.store.idempotent_result("user.create", key).await?
        {
            return self.store.shown_user(&existing).await;
        }
        if request.email.trim().is_empty()
            && !request.contact_id.is_empty()
            && let Some(contact) = self.store.contact(&request.contact_id).await?
        {
            // A user for an existing contact takes the contact's email unless given one.
            request.email = contact.email;
        }
        let mut problems = Vec::new();
        let normalized = email::normalize(&request.email).map_err(|p| problems.push(("user.email", p))).ok();
        let kind =
            request.kind.ok_or_else(|| problems.push(("user.kind", "is required: employee or external".into()))).ok();
        if kind == Some(UserKind::External) && request.licence_product_id.is_empty() {
            problems.push(("licence_product_id", "is required for an external user".into()));
        }
        if kind == Some(UserKind::Employee) {
            if !request.licence_product_id.is_empty() {
                problems
                    .push(("licence_product_id", "must be empty for an employee (employees need no licence)".into()));
            }
            if !request.organization_id.is_empty() {
                problems.push(("user.organization_id", "must be empty for an employee".into()));
            }
        }
        if request.system_administrator && kind != Some(UserKind::Employee) {
            problems.push(("user.system_administrator", "only employees can be system administrators".into()));
        }
        let culture = if request.culture.is_empty() { "en-US".to_owned() } else { request.culture.clone() };
        if !valid_culture(&culture) {
            problems.push(("user.culture", "must be a culture such as en-US or de-DE".into()));
        }
        if !request.password.is_empty()
            && let Err(rejection) = password_policy::check(&request.password, &request.email)
        {
            return Err(IdentityError::PasswordRejected { field: "password", rejection });
        }
        if !problems.is_empty() {
            return Err(IdentityError::Invalid(problems));
        }
        let (Some(normalized), Some(kind)) = (normalized, kind) else { unreachable!("problems were reported") };
        let organization = match request.organization_id.as_str() {
            "" => None,
            id => Some(
                self.store
                    .organization(id)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound("organization", id.to_owned()))?,
            ),
        };
        if request.organization_administrator && organization.is_none() {
            return Err(IdentityError::Refused(
                "ORGANIZATION_ADMINISTRATOR_NEEDS_ORGANIZATION",
                "an organization administrator needs an organization".into(),
            ));
        }
        let roles = self
            .roles
            .assignable("role_ids", &request.role_ids, kind, organization.as_ref().map(|o| o.id.as_str()))
            .await?;
        if request.send_invitation {
            self.invitations.check_mailbox().await?;
        }
        let product = match kind {
            UserKind::External => Some(
                self.store
                    .licence_product(&request.licence_product_id)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound("licence product", request.licence_product_id.clone()))?,
            ),
            UserKind::Employee => None,
        };
        if !request.contact_id.is_empty() && !self.store.contact_exists(&request.contact_id).await? {
            return Err(IdentityError::NotFound("contact", request.contact_id));
        }
        let password_hash = match request.password.as_str() {
            "" => None,
            password => Some(self.hasher.hash(password).await?),
        };
        let local_part = request.email.trim().split('@').next().unwrap_or_default().to_owned();
        let full_name = if request.new_contact_full_name.trim().is_empty() {
            local_part
        } else {
            request.new_contact_full_name.clone()
        };
        let home_page = if request.home_page.is_empty() {
            self.settings.current().await?.stored.portal_start_page
        } else {
            request.home_page.clone()
        };
        let id = secrets::new_id();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let user = NewUser {
            id: &id,
            contact_id: (!request.contact_id.is_empty()).then_some(request.contact_id.as_str()),
            email: request.email.trim(),
            email_normalized: &normalized,
            full_name: full_name.trim(),
            kind,
            system_administrator: request.system_administrator,
            password_hash: password_hash.as_deref(),
            culture: &culture,
            home_page: &home_page,
            origin: "manual",
            organization_id: organization.as_ref().map(|o| o.id.as_str()),
            organization_administrator: request.organization_administrator,
            account_id: organization.as_ref().and_then(|o| o.account_id.as_deref()),
        };
        match Store::insert_user(&mut tx, &user, now).await? {
            Insertion::Created => {}
            Insertion::EmailTaken => return Err(IdentityError::EmailAlreadyUsed(request.email.trim().to_owned())),
            Insertion::ContactTaken => return Err(IdentityError::ContactAlreadyHasUser(request.contact_id)),
        }
        if let Some(product) = &product
            && Store::take_seat(&mut tx, &id, &product.id, &caller.user_id, now).await?.is_none()
        {
            return Err(IdentityError::NoFreeSeat(product.id.clone()));
        }
        for role in &roles {
            Store::add_membership(&mut tx, &role.id, &id, &caller.user_id, now).await?;
        }
        if let Some(key) = &idempotency_key
            && !Store::remember_result(&mut tx, "user.create", key, &id, now).await?
        {
            drop(tx);
            let existing = self.store.idempotent_result("user.create", key).await?.unwrap_or_default();
            return self.store.shown_user(&existing).await;
        }
        let created_view = serde_json::json!({
            "id": id, "email": user.email, "kind": kind.as_str(), "licence_product_id": product.as_ref().map(|p| &p.id),
        });
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "user.create",
                resource_type: "user",
                resource_id: &id,
                organization_id: organization.as_ref().map(|o| o.id.as_str()).unwrap_or_default(),
                before_json: String::new(),
                after_json: created_view.to_string(),
                request_id: &request.request_id,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        if request.send_invitation {
            // The invitation is a change of its own (its token and email in one transaction).
            self.invitations.invite(caller, &id).await?;
        }
        self.store.shown_user(&id).await
    }

    fn check_etag(user: &UserRecord, etag: &str) -> Result<(), IdentityError> {
        if etag.is_empty() || etag == user.version.to_string() { Ok(()) } else { Err(IdentityError::Stale("user")) }
    }

    /// Deactivates a user: no more logins, sessions end on the very next request, the seat
    /// is kept unless `release_licence`.
    pub async fn deactivate(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        release_licence: bool,
    ) -> Result<UserRecord, IdentityError> {
        let before = self.managed_user(caller, id).await?;
        Self::check_etag(&before, etag)?;
        if before.id == caller.user_id {
            return Err(IdentityError::Refused("CANNOT_DEACTIVATE_SELF", "you cannot deactivate yourself".into()));
        }
        self.refuse_last_system_administrator(&before).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let changed = Store::set_active(&mut tx, id, false, now).await?;
        let released = if release_licence { Store::release_seat(&mut tx, id).await? } else { None };
        if !changed && released.is_none() {
            return self.store.with_role_ids(before).await;
        }
        Store::end_user_sessions(&mut tx, id, "", "deactivated", now).await?;
        Store::revoke_user_tokens(&mut tx, id, "user_deactivated", now).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "user.deactivate",
                resource_type: "user",
                resource_id: id,
                organization_id: before.organization_id.as_deref().unwrap_or_default(),
                before_json: snapshot(&before),
                after_json: serde_json::json!({ "active": false, "licence_released": released.is_some() }).to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().users_changed(vec![id.to_owned()]).await?;
        self.store.shown_user(id).await
    }

    /// Reactivates a user; an external user without a seat gets one of `product` (or the
    /// SspUserRegistrationLicPackage setting's product). Without a free seat the user stays
    /// inactive.
    pub async fn reactivate(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        product: &str,
    ) -> Result<UserRecord, IdentityError> {
        let before = self.managed_user(caller, id).await?;
        Self::check_etag(&before, etag)?;
        if before.is_active() {
            return self.store.with_role_ids(before).await;
        }
        let needs_seat = before.kind() == UserKind::External && before.licence_product_id.is_none();
        let product = if needs_seat {
            let wanted = if product.is_empty() {
                self.settings.current().await?.stored.ssp_user_registration_lic_package
            } else {
                product.to_owned()
            };
            if wanted.is_empty() {
                return Err(IdentityError::Refused(
                    "NO_LICENCE_PRODUCT",
                    "the user needs a licence: name licence_product_id or set SspUserRegistrationLicPackage".into(),
                ));
            }
            Some(self.store.licence_product(&wanted).await?.ok_or(IdentityError::NotFound("licence product", wanted))?)
        } else {
            None
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::set_active(&mut tx, id, true, now).await?;
        if let Some(product) = &product
            && Store::take_seat(&mut tx, id, &product.id, &caller.user_id, now).await?.is_none()
        {
            return Err(IdentityError::NoFreeSeat(product.id.clone()));
        }
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "user.reactivate",
                resource_type: "user",
                resource_id: id,
                organization_id: before.organization_id.as_deref().unwrap_or_default(),
                before_json: snapshot(&before),
                after_json: serde_json::json!({ "active": true, "licence_product_id": product.map(|p| p.id) })
                    .to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().users_changed(vec![id.to_owned()]).await?;
        self.store.shown_user(id).await
    }

    /// The users the caller may see matching `filter`: employees all; an organization
    /// administrator their organization's (another organization is PERMISSION_DENIED);
    /// other external users only themselves.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: UserFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let employee = actor.caller.system_administrator || actor.caller.kind == service_kit::CallerKind::Employee;
        if !employee {
            match actor.organization_id.as_deref().filter(|_| actor.organization_administrator) {
                Some(own) if filter.organization_id.is_empty() || filter.organization_id == own => {
                    filter.organization_id = own.to_owned();
                }
                Some(_) => {
                    return Err(IdentityError::NotAllowed("organization administrators list their own organization"));
                }
                None => filter.only_id = caller.user_id.clone(),
            }
        }
        let mut users = self.store.users(&filter, after, limit).await?;
        self.store.fill_role_ids(&mut users).await?;
        Ok(users)
    }

    /// Deletes a user: seat released, sessions ended, links revoked, memberships removed;
    /// the contact stays.
    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), IdentityError> {
        let before = self.managed_user(caller, id).await?;
        Self::check_etag(&before, etag)?;
        if before.id == caller.user_id {
            return Err(IdentityError::Refused("CANNOT_DELETE_SELF", "you cannot delete yourself".into()));
        }
        self.refuse_last_system_administrator(&before).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::delete_user(&mut tx, id).await?;
        Store::record_audit(&mut tx, user_audit(caller, "user.delete", &before, snapshot(&before), String::new()), now)
            .await?;
        tx.commit().await?;
        self.roles.access().user_removed(id).await
    }

    async fn refuse_last_system_administrator(&self, user: &UserRecord) -> Result<(), IdentityError> {
        if user.is_system_administrator() && user.is_active() && self.store.active_system_administrators().await? <= 1 {
            return Err(IdentityError::Refused(
                "LAST_SYSTEM_ADMINISTRATOR",
                "this is the only active system administrator; make another one first".into(),
            ));
        }
        Ok(())
    }

    /// Changes a user: preferences (the user themselves or whoever manages them), email
    /// and organization (system administrators), the system administrator flag (system
    /// administrators, for employees).
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: UserChanges,
    ) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let before = self.get(caller, id).await?;
        let preferences_only =
            changes.email.is_none() && changes.organization_id.is_none() && changes.system_administrator.is_none();
        let may_restructure = actor.caller.system_administrator
            || (actor.portal_user_administrator && before.kind() == UserKind::External);
        let allowed = may_restructure
            || (preferences_only && (before.id == caller.user_id || actor.may_manage_user(before.as_target())));
        if !allowed || (changes.system_administrator.is_some() && !actor.caller.system_administrator) {
            return Err(IdentityError::NotAllowed(
                "users change their own culture and home page; email and organization need a system or portal user \
                 administrator, the system administrator flag a system administrator",
            ));
        }
        Self::check_etag(&before, etag)?;
        if let Some(culture) = &changes.culture
            && !valid_culture(culture)
        {
            return Err(IdentityError::Invalid(vec![("user.culture", "must be a BCP 47 tag such as en-US".into())]));
        }
        if changes.home_page.as_ref().is_some_and(|page| page.chars().count() > 2000) {
            return Err(IdentityError::Invalid(vec![("user.home_page", "must be at most 2000 characters".into())]));
        }
        let email = match &changes.email {
            Some(address) => Some((
                address.trim().to_owned(),
                email::normalize(address).map_err(|problem| IdentityError::Invalid(vec![("user.email", problem)]))?,
            )),
            None => None,
        };
        let organization = match changes.organization_id.as_deref() {
            None | Some("") => None,
            Some(organization) => Some(
                self.store
                    .organization(organization)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound("organization", organization.to_owned()))?,
            ),
        };
        if changes.organization_id.as_deref().is_some_and(|o| !o.is_empty()) && before.kind() == UserKind::Employee {
            return Err(IdentityError::Refused(
                "EMPLOYEE_HAS_NO_ORGANIZATION",
                "employees do not belong to portal organizations".into(),
            ));
        }
        if let Some(flag) = changes.system_administrator {
            if flag && before.kind() != UserKind::Employee {
                return Err(IdentityError::Refused(
                    "SYSTEM_ADMINISTRATOR_MUST_BE_EMPLOYEE",
                    "only employees can be system administrators".into(),
                ));
            }
            if !flag {
                self.refuse_last_system_administrator(&before).await?;
            }
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if changes.culture.is_some() || changes.home_page.is_some() {
            let culture = changes.culture.as_deref().unwrap_or(&before.culture);
            let home_page = changes.home_page.as_deref().unwrap_or(&before.home_page);
            Store::set_preferences(&mut tx, id, culture, home_page, now).await?;
        }
        if let Some((address, normalized)) = &email
            && *normalized != before.email.to_lowercase()
        {
            if !Store::set_email(&mut tx, id, address, normalized, now).await? {
                return Err(IdentityError::EmailAlreadyUsed(address.clone()));
            }
            Store::set_contact_email(&mut tx, &before.contact_id, address, now).await?;
            Store::end_user_sessions(&mut tx, id, "", "email_changed", now).await?;
            Store::revoke_user_tokens(&mut tx, id, "email_changed", now).await?;
        }
        if let Some(requested) = changes.organization_id.as_deref()
            && Some(requested) != before.organization_id.as_deref()
        {
            if let Some(old) = before.organization_id.as_deref() {
                Store::leave_organization_roles(&mut tx, id, old).await?;
            }
            Store::set_organization(&mut tx, id, organization.as_ref().map(|o| o.id.as_str()), false, now).await?;
        }
        if let Some(flag) = changes.system_administrator
            && flag != before.is_system_administrator()
        {
            Store::set_system_administrator(&mut tx, id, flag, now).await?;
        }
        let after = self_after(&mut tx, id).await?;
        Store::record_audit(
            &mut tx,
            user_audit(caller, "user.update", &before, snapshot(&before), snapshot(&after)),
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().users_changed(vec![id.to_owned()]).await?;
        self.store.shown_user(id).await
    }
}

/// The user as the open transaction sees it.
async fn self_after(tx: &mut sqlx::AnyConnection, id: &str) -> Result<UserRecord, IdentityError> {
    Store::user_in(tx, id).await?.ok_or_else(|| IdentityError::UserNotFound(id.to_owned()))
}

fn user_audit<'a>(
    caller: &'a Caller,
    action: &'a str,
    user: &'a UserRecord,
    before_json: String,
    after_json: String,
) -> AuditEntry<'a> {
    AuditEntry {
        actor: caller,
        action,
        resource_type: "user",
        resource_id: &user.id,
        organization_id: user.organization_id.as_deref().unwrap_or_default(),
        before_json,
        after_json,
        request_id: "",
    }
}
