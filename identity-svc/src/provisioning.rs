//! Provisioning for CRM workflows: make a contact's portal access match what the CRM
//! says (idempotently), or remove it. A repeated call with the same input changes
//! nothing and writes no audit event.

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::Authority,
    domain::{IdentityError, email, user::UserKind},
    roles::Roles,
    storage::{AuditEntry, ContactRecord, Insertion, NewUser, Store, UserRecord},
    system_settings::SystemSettings,
};

/// The access one contact should have.
#[derive(Debug, Clone, Default)]
pub struct PortalAccess {
    pub contact_id: String,
    pub active: bool,
    pub role_ids: Vec<String>,
    pub organization_administrator: bool,
    pub licence_product_id: String,
    pub send_invitation: bool,
}

/// What an upsert did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub user: UserRecord,
    pub created: bool,
    pub changed: bool,
}

/// The provisioning use cases.
#[derive(Debug, Clone)]
pub struct Provisioning {
    store: Store,
    roles: Roles,
    settings: SystemSettings,
    clock: Clock,
    authority: Authority,
}

impl Provisioning {
    pub fn new(store: Store, roles: Roles, settings: SystemSettings, clock: Clock, authority: Authority) -> Self {
        Self { store, roles, settings, clock, authority }
    }

    async fn allowed_contact(&self, caller: &Caller, contact_id: &str) -> Result<ContactRecord, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may provision portal access"));
        }
        if contact_id.is_empty() {
            return Err(IdentityError::Invalid(vec![("contact_id", "is required".into())]));
        }
        self.store.contact(contact_id).await?.ok_or_else(|| IdentityError::NotFound("contact", contact_id.to_owned()))
    }

    pub async fn upsert(&self, caller: &Caller, access: PortalAccess) -> Result<Provisioned, IdentityError> {
        let contact = self.allowed_contact(caller, &access.contact_id).await?;
        if access.role_ids.len() > 50 {
            return Err(IdentityError::Invalid(vec![("role_ids", "must name at most 50 roles".into())]));
        }
        let normalized = email::normalize(&contact.email).map_err(|_| {
            IdentityError::Refused("CONTACT_HAS_NO_EMAIL", "the contact has no usable email address".into())
        })?;
        let organization = match contact.account_id.as_deref() {
            Some(account) => self.store.organization_of_account(account).await?,
            None => None,
        };
        let organization_id = organization.as_ref().map(|o| o.id.clone());
        if access.organization_administrator && organization.is_none() {
            return Err(IdentityError::Refused(
                "ORGANIZATION_ADMINISTRATOR_NEEDS_ORGANIZATION",
                "the contact's account has no portal organization".into(),
            ));
        }
        if access.send_invitation {
            return Err(IdentityError::NotYet("send_invitation: invitations from provisioning are not available yet"));
        }
        self.roles.assignable("role_ids", &access.role_ids, UserKind::External, organization_id.as_deref()).await?;
        let existing = self.store.user_of_contact(&contact.id).await?;
        if existing.as_ref().is_some_and(|u| u.kind() != UserKind::External) {
            return Err(IdentityError::Refused("USER_NOT_EXTERNAL", "the contact's user is an employee".into()));
        }
        let product = if access.active {
            let wanted = [
                access.licence_product_id.clone(),
                organization.as_ref().and_then(|o| o.default_licence_product_id.clone()).unwrap_or_default(),
                existing.as_ref().and_then(|u| u.licence_product_id.clone()).unwrap_or_default(),
                self.settings.current().await?.stored.ssp_user_registration_lic_package,
            ]
            .into_iter()
            .find(|p| !p.is_empty())
            .ok_or(IdentityError::Refused(
                "NO_LICENCE_PRODUCT",
                "name licence_product_id, set the organization's default product, or set SspUserRegistrationLicPackage"
                    .into(),
            ))?;
            Some(self.store.licence_product(&wanted).await?.ok_or(IdentityError::NotFound("licence product", wanted))?)
        } else {
            None
        };

        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let (user_id, created, mut changed) = match &existing {
            None => {
                let id = secrets::new_id();
                let local_part = contact.email.trim().split('@').next().unwrap_or_default().to_owned();
                let user = NewUser {
                    id: &id,
                    contact_id: Some(&contact.id),
                    email: contact.email.trim(),
                    email_normalized: &normalized,
                    full_name: &local_part,
                    kind: UserKind::External,
                    system_administrator: false,
                    password_hash: None,
                    culture: "en-US",
                    home_page: &self.settings.current().await?.stored.portal_start_page,
                    origin: "provisioning",
                    organization_id: organization_id.as_deref(),
                    organization_administrator: access.organization_administrator,
                    account_id: contact.account_id.as_deref(),
                };
                match Store::insert_user(&mut tx, &user, now).await? {
                    Insertion::Created => (id, true, true),
                    Insertion::EmailTaken => return Err(IdentityError::EmailAlreadyUsed(contact.email.clone())),
                    Insertion::ContactTaken => return Err(IdentityError::ContactAlreadyHasUser(contact.id.clone())),
                }
            }
            Some(user) => {
                let mut changed = false;
                if user.email.trim().to_lowercase() != normalized {
                    if !Store::set_email(&mut tx, &user.id, contact.email.trim(), &normalized, now).await? {
                        return Err(IdentityError::EmailAlreadyUsed(contact.email.clone()));
                    }
                    Store::end_user_sessions(&mut tx, &user.id, "", "email_changed", now).await?;
                    Store::revoke_user_tokens(&mut tx, &user.id, "email_changed", now).await?;
                    changed = true;
                }
                if user.organization_id != organization_id
                    || user.is_organization_administrator() != access.organization_administrator
                {
                    Store::set_organization(
                        &mut tx,
                        &user.id,
                        organization_id.as_deref(),
                        access.organization_administrator,
                        now,
                    )
                    .await?;
                    changed = true;
                }
                (user.id.clone(), false, changed)
            }
        };
        let held = if created { None } else { existing.as_ref().and_then(|u| u.licence_product_id.clone()) };
        match &product {
            Some(product) => {
                changed |= Store::set_active(&mut tx, &user_id, true, now).await?;
                if held.as_deref() != Some(product.id.as_str()) {
                    if held.is_some() {
                        Store::release_seat(&mut tx, &user_id).await?;
                    }
                    if Store::take_seat(&mut tx, &user_id, &product.id, &caller.user_id, now).await?.is_none() {
                        return Err(IdentityError::NoFreeSeat(product.id.clone()));
                    }
                    changed = true;
                }
            }
            None => {
                let deactivated = Store::set_active(&mut tx, &user_id, false, now).await?;
                let released = Store::release_seat(&mut tx, &user_id).await?.is_some();
                if deactivated || released {
                    Store::end_user_sessions(&mut tx, &user_id, "", "access_removed", now).await?;
                    Store::revoke_user_tokens(&mut tx, &user_id, "user_deactivated", now).await?;
                    changed = true;
                }
            }
        }
        changed |= Store::replace_memberships(&mut tx, &user_id, &access.role_ids, &caller.user_id, now).await?;
        if changed {
            let after = serde_json::json!({ "contact_id": contact.id, "active": access.active, "role_ids": access.role_ids,
                "organization_id": organization_id, "organization_administrator": access.organization_administrator,
                "licence_product_id": product.as_ref().map(|p| &p.id) });
            let before = existing.as_ref().map(crate::users::snapshot).unwrap_or_default();
            Store::record_audit(
                &mut tx,
                AuditEntry {
                    actor: caller,
                    action: if created { "user.create" } else { "user.provision" },
                    resource_type: "user",
                    resource_id: &user_id,
                    organization_id: organization_id.as_deref().unwrap_or_default(),
                    before_json: before,
                    after_json: after.to_string(),
                    request_id: "",
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.roles.access().users_changed(vec![user_id.clone()]).await?;
        let user = self.store.user(&user_id).await?.ok_or(IdentityError::UserNotFound(user_id))?;
        Ok(Provisioned { user, created, changed })
    }

    /// Deletes the contact's user (seat released, sessions ended, memberships and links
    /// removed); `None` when the contact had none.
    pub async fn remove(&self, caller: &Caller, contact_id: &str) -> Result<Option<String>, IdentityError> {
        let contact = self.allowed_contact(caller, contact_id).await?;
        let Some(user) = self.store.user_of_contact(&contact.id).await? else { return Ok(None) };
        if user.kind() != UserKind::External {
            return Err(IdentityError::Refused("USER_NOT_EXTERNAL", "the contact's user is an employee".into()));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::delete_user(&mut tx, &user.id).await?;
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "user.delete",
                resource_type: "user",
                resource_id: &user.id,
                organization_id: user.organization_id.as_deref().unwrap_or_default(),
                before_json: crate::users::snapshot(&user),
                after_json: String::new(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().user_removed(&user.id).await?;
        Ok(Some(user.id))
    }
}
