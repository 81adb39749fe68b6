//! The organization use cases: accounts, portal organizations bound to them, their
//! administrators and members, and adding users by email ("Add users by email" on the
//! organization profile).

use std::collections::HashSet;

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    authority::Authority,
    domain::{
        IdentityError,
        address::{self, Address},
        authority::Actor,
        email, roles as role_rules,
        user::UserKind,
    },
    invitations::Invitations,
    roles::Roles,
    storage::{
        AccountFilter, AccountRecord, AuditEntry, Insertion, NewRole, NewUser, OrganizationFilter, OrganizationRow,
        RoleRecord, Store, UserFilter, UserRecord,
    },
    system_settings::SystemSettings,
};

/// What CreateOrganization asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateOrganization {
    pub account_id: String,
    pub display_name: String,
    pub parent_role_id: String,
    pub default_licence_product_id: String,
}

/// What UpdateOrganization changes: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub addresses: Option<Vec<Address>>,
    pub parent_role_id: Option<String>,
    pub default_licence_product_id: Option<String>,
}

/// An organization with its profile (the bound account's phone and addresses).
#[derive(Debug, Clone)]
pub struct OrganizationView {
    pub role: RoleRecord,
    pub phone: String,
    pub addresses: Vec<Address>,
    pub member_count: i64,
}

/// An account with its bound organization and addresses.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: AccountRecord,
    pub organization_id: Option<String>,
    pub addresses: Vec<Address>,
}

/// What UpdateAccount changes: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub partner: Option<bool>,
    pub phone: Option<String>,
    pub web: Option<String>,
    pub addresses: Option<Vec<Address>>,
}

/// What AddUsersByEmail asks for.
#[derive(Debug, Clone, Default)]
pub struct AddUsersByEmail {
    pub organization_id: String,
    pub emails: Vec<String>,
    pub role_ids: Vec<String>,
    pub organization_administrator: bool,
    pub licence_product_id: String,
    pub send_invitations: bool,
}

/// What happened to one address of AddUsersByEmail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    CreatedWithNewContact {
        user_id: String,
        contact_id: String,
    },
    CreatedForExistingContact {
        user_id: String,
        contact_id: String,
    },
    AlreadyMember {
        user_id: String,
        contact_id: String,
    },
    /// (reason, message)
    Failed(&'static str, String),
}

/// One address's result, in the order given.
#[derive(Debug, Clone)]
pub struct AddResult {
    pub email: String,
    pub normalized_email: String,
    pub outcome: AddOutcome,
    /// The invitation sent to a created user (its id), or why it could not be sent.
    pub invitation: Option<Result<String, String>>,
}

/// An address that will get a new user.
struct Planned {
    index: usize,
    email: String,
    normalized: String,
    contact_id: Option<String>,
}

/// The organization use cases.
#[derive(Debug, Clone)]
pub struct Organizations {
    store: Store,
    roles: Roles,
    settings: SystemSettings,
    invitations: Invitations,
    clock: Clock,
    authority: Authority,
}

impl Organizations {
    pub fn new(
        store: Store,
        roles: Roles,
        settings: SystemSettings,
        invitations: Invitations,
        clock: Clock,
        authority: Authority,
    ) -> Self {
        Self { store, roles, settings, invitations, clock, authority }
    }

    pub async fn create_account(
        &self,
        caller: &Caller,
        name: &str,
        partner: bool,
    ) -> Result<AccountRecord, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may create accounts"));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 250 {
            return Err(IdentityError::Invalid(vec![("account.name", "must be 1 to 250 characters".into())]));
        }
        let now = self.clock.now();
        let account = AccountRecord {
            id: secrets::new_id(),
            name: name.to_owned(),
            r#type: if partner { "partner" } else { "customer" }.into(),
            phone: String::new(),
            web: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        Store::insert_account(&mut tx, &account).await?;
        let after = serde_json::json!({ "id": account.id, "name": account.name, "type": account.r#type });
        Store::record_audit(
            &mut tx,
            audit(caller, "account.create", "account", &account.id, "", String::new(), after.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn account(&self, caller: &Caller, id: &str) -> Result<AccountRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let account = self.store.account(id).await?.ok_or_else(|| IdentityError::NotFound("account", id.to_owned()))?;
        let own = match &actor.organization_id {
            Some(organization) => {
                self.store.organization(organization).await?.and_then(|o| o.account_id) == Some(account.id.clone())
            }
            None => false,
        };
        if actor.may_manage_everything() || actor.caller.kind == service_kit::CallerKind::Employee || own {
            Ok(account)
        } else {
            Err(IdentityError::NotFound("account", id.to_owned()))
        }
    }

    /// An account the caller may see, with its organization and addresses.
    pub async fn account_view(&self, caller: &Caller, id: &str) -> Result<AccountView, IdentityError> {
        let account = self.account(caller, id).await?;
        self.account_details(account).await
    }

    async fn account_details(&self, account: AccountRecord) -> Result<AccountView, IdentityError> {
        let organization_id = self.store.organization_of_account(&account.id).await?.map(|o| o.id);
        let addresses = self.store.addresses_of(&account.id).await?;
        Ok(AccountView { account, organization_id, addresses })
    }

    /// The accounts the caller may see (an external user only their organization's), by
    /// name then id, after `after`.
    pub async fn accounts(
        &self,
        caller: &Caller,
        mut filter: AccountFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<AccountView>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        if !actor.may_manage_everything() && actor.caller.kind != service_kit::CallerKind::Employee {
            let own = match actor.organization_id.as_deref() {
                Some(organization) => self.store.organization(organization).await?.and_then(|o| o.account_id),
                None => None,
            };
            let Some(own) = own else { return Ok(Vec::new()) };
            filter.only_id = Some(own);
        }
        filter.text = filter.text.trim().to_lowercase();
        let mut views = Vec::new();
        for account in self.store.accounts(&filter, after, limit).await? {
            views.push(self.account_details(account).await?);
        }
        Ok(views)
    }

    /// Changes an account (system and portal user administrators).
    pub async fn update_account(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: AccountChanges,
    ) -> Result<AccountView, IdentityError> {
        let before = self.account(caller, id).await?;
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system and portal user administrators change accounts"));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("account"));
        }
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut after = before.clone();
        if let Some(name) = &changes.name {
            if name.trim().is_empty() || name.trim().chars().count() > 250 {
                problems.push(("account.name".into(), "must be 1 to 250 characters".into()));
            }
            after.name = name.trim().to_owned();
        }
        if let Some(phone) = &changes.phone {
            if phone.chars().count() > 50 {
                problems.push(("account.phone".into(), "must be at most 50 characters".into()));
            }
            after.phone = phone.trim().to_owned();
        }
        if let Some(web) = &changes.web {
            if web.chars().count() > 250 {
                problems.push(("account.web".into(), "must be at most 250 characters".into()));
            }
            after.web = web.trim().to_owned();
        }
        if let Some(addresses) = &changes.addresses {
            for (index, field, problem) in address::problems(addresses) {
                let field = match index {
                    Some(index) => format!("account.addresses[{index}].{field}"),
                    None => "account.addresses".to_owned(),
                };
                problems.push((field, problem));
            }
        }
        if !problems.is_empty() {
            return Err(IdentityError::InvalidAt(problems));
        }
        if let Some(partner) = changes.partner {
            after.r#type = if partner { "partner" } else { "customer" }.into();
            let under_partners = self
                .store
                .organization_of_account(id)
                .await?
                .is_some_and(|o| o.parent_id.as_deref() == Some(role_rules::PARTNERS));
            if !partner && under_partners {
                return Err(IdentityError::Refused(
                    "PARTNER_ORGANIZATION_EXISTS",
                    "the account's organization sits under \"Partners\": move it first".into(),
                ));
            }
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !Store::update_account(&mut tx, &after, now).await? {
            return Err(IdentityError::Stale("account"));
        }
        if let Some(addresses) = &changes.addresses
            && let Err(index) = Store::replace_addresses(&mut tx, id, addresses).await?
        {
            return Err(IdentityError::Invalid(vec![(
                "account.addresses",
                format!("address {index} has an id that is not one of this account's addresses"),
            )]));
        }
        let snapshot = |a: &AccountRecord| {
            serde_json::json!({ "name": a.name, "type": a.r#type, "phone": a.phone, "web": a.web }).to_string()
        };
        Store::record_audit(
            &mut tx,
            audit(caller, "account.update", "account", id, "", snapshot(&before), snapshot(&after)),
            now,
        )
        .await?;
        tx.commit().await?;
        self.account_view(caller, id).await
    }

    /// Deletes an account nothing refers to.
    pub async fn delete_account(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), IdentityError> {
        let before = self.account(caller, id).await?;
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system and portal user administrators delete accounts"));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("account"));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !Store::delete_account(&mut tx, id).await? {
            return Err(IdentityError::Refused(
                "ACCOUNT_IN_USE",
                "an organization, contacts or departments refer to this account: remove them first".into(),
            ));
        }
        let before_json = serde_json::json!({ "name": before.name, "type": before.r#type }).to_string();
        Store::record_audit(
            &mut tx,
            audit(caller, "account.delete", "account", id, "", before_json, String::new()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_organization(
        &self,
        caller: &Caller,
        request: CreateOrganization,
    ) -> Result<RoleRecord, IdentityError> {
        if !self.authority.actor(caller).await?.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may create organizations"));
        }
        if request.account_id.is_empty() {
            return Err(IdentityError::Invalid(vec![("organization.account_id", "is required".into())]));
        }
        let account = self
            .store
            .account(&request.account_id)
            .await?
            .ok_or_else(|| IdentityError::NotFound("account", request.account_id.clone()))?;
        let parent = self.parent_role(&request.parent_role_id, &account).await?;
        if self.store.organization_of_account(&account.id).await?.is_some() {
            return Err(IdentityError::AlreadyExists(
                "ORGANIZATION_EXISTS_FOR_ACCOUNT",
                format!("account '{}' already has an organization", account.id),
            ));
        }
        let product = match request.default_licence_product_id.as_str() {
            "" => None,
            id => Some(
                self.store
                    .licence_product(id)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound("licence product", id.to_owned()))?
                    .id,
            ),
        };
        let name = if request.display_name.trim().is_empty() {
            account.name.clone()
        } else {
            request.display_name.trim().to_owned()
        };
        if name.chars().count() > 250 {
            return Err(IdentityError::Invalid(vec![(
                "organization.display_name",
                "must be at most 250 characters".into(),
            )]));
        }
        let id = secrets::new_id();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let role = NewRole {
            id: &id,
            display_name: &name,
            kind: "organization",
            user_kind: "external",
            parent_id: Some(&parent.id),
            organization_id: Some(&id),
            description: "",
            account_id: Some(&account.id),
            default_licence_product_id: product.as_deref(),
        };
        if !Store::insert_role(&mut tx, &role, now).await? {
            return Err(IdentityError::AlreadyExists(
                "ROLE_NAME_USED",
                format!("a sibling role is already named '{name}'"),
            ));
        }
        let after = serde_json::json!({ "id": id, "display_name": name, "account_id": account.id, "parent_role_id": parent.id });
        Store::record_audit(
            &mut tx,
            audit(caller, "organization.create", "organization", &id, &id, String::new(), after.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        self.store.organization(&id).await?.ok_or(IdentityError::NotFound("organization", id))
    }

    /// The role an organization of `account` may sit under: `requested`, or by default
    /// "Partners" for a partner account and "All external users" otherwise.
    async fn parent_role(&self, requested: &str, account: &AccountRecord) -> Result<RoleRecord, IdentityError> {
        let partner_account = account.r#type == "partner";
        let parent_id = match requested {
            "" if partner_account => role_rules::PARTNERS,
            "" => role_rules::ALL_EXTERNAL_USERS,
            id => id,
        };
        let chain = self.store.role_with_ancestors(parent_id).await?;
        let parent = chain.first().ok_or_else(|| IdentityError::NotFound("role", parent_id.to_owned()))?;
        let root = chain.last().map(|r| r.id.as_str()).unwrap_or_default();
        if parent.organization_id.is_some() {
            return Err(IdentityError::InvalidBecause(
                "organization.parent_role_id",
                "is inside another organization".into(),
                "PARENT_ROLE_IN_ORGANIZATION",
            ));
        }
        if parent.kind != "organizational" || !matches!(root, role_rules::ALL_EXTERNAL_USERS | role_rules::PARTNERS) {
            return Err(IdentityError::InvalidBecause(
                "organization.parent_role_id",
                "must be \"All external users\", \"Partners\" or an organizational role below them".into(),
                "PARENT_ROLE_NOT_EXTERNAL",
            ));
        }
        if root == role_rules::PARTNERS && !partner_account {
            return Err(IdentityError::Refused(
                "ACCOUNT_NOT_PARTNER",
                "only a partner account's organization can sit under \"Partners\"".into(),
            ));
        }
        Ok(parent.clone())
    }

    /// An organization the caller may see, with its profile.
    pub async fn view(&self, caller: &Caller, id: &str) -> Result<OrganizationView, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let role = self.visible_organization(&actor, id).await?;
        self.profile_of(role).await
    }

    async fn profile_of(&self, role: RoleRecord) -> Result<OrganizationView, IdentityError> {
        let member_count = self.store.organization_member_count(&role.id).await?;
        let (phone, addresses) = match role.account_id.as_deref() {
            Some(account_id) => {
                let phone = self.store.account(account_id).await?.map(|a| a.phone).unwrap_or_default();
                (phone, self.store.addresses_of(account_id).await?)
            }
            None => (String::new(), Vec::new()),
        };
        Ok(OrganizationView { role, phone, addresses, member_count })
    }

    /// The organizations the caller may see (an external user only their own), by
    /// display name then id, after `after`.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: OrganizationFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<OrganizationView>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        if actor.caller.kind != service_kit::CallerKind::Employee && !actor.caller.system_administrator {
            let Some(own) = actor.organization_id.clone() else { return Ok(Vec::new()) };
            filter.only_id = Some(own);
        }
        filter.text = filter.text.trim().to_lowercase();
        let mut views = Vec::new();
        for role in self.store.organizations(&filter, after, limit).await? {
            views.push(self.profile_of(role).await?);
        }
        Ok(views)
    }

    /// Changes an organization's profile: its administrators may change the name, phone
    /// and addresses; moving it or changing its default licence needs a system administrator.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: OrganizationChanges,
    ) -> Result<OrganizationView, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let before = self.managed_organization(&actor, id).await?;
        let structural = changes.parent_role_id.is_some() || changes.default_licence_product_id.is_some();
        if structural && !actor.may_manage_everything() {
            return Err(IdentityError::NotAllowed(
                "only system administrators may move an organization or change its default licence",
            ));
        }
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("organization"));
        }
        let mut problems: Vec<(String, String)> = Vec::new();
        let display_name = match &changes.display_name {
            Some(name) if name.trim().is_empty() || name.trim().chars().count() > 250 => {
                problems.push(("organization.display_name".into(), "must be 1 to 250 characters".into()));
                before.display_name.clone()
            }
            Some(name) => name.trim().to_owned(),
            None => before.display_name.clone(),
        };
        if changes.phone.as_ref().is_some_and(|phone| phone.chars().count() > 50) {
            problems.push(("organization.phone".into(), "must be at most 50 characters".into()));
        }
        if let Some(addresses) = &changes.addresses {
            for (index, field, problem) in address::problems(addresses) {
                let field = match index {
                    Some(index) => format!("organization.addresses[{index}].{field}"),
                    None => "organization.addresses".to_owned(),
                };
                problems.push((field, problem));
            }
        }
        if !problems.is_empty() {
            return Err(IdentityError::InvalidAt(problems));
        }
        let account_id = before.account_id.clone().unwrap_or_default();
        let account = self
            .store
            .account(&account_id)
            .await?
            .ok_or_else(|| IdentityError::Corrupt(format!("organization {id} has no account")))?;
        let parent_id = match changes.parent_role_id.as_deref() {
            Some(requested) => self.parent_role(requested, &account).await?.id,
            None => before.parent_id.clone().unwrap_or_default(),
        };
        let product = match changes.default_licence_product_id.as_deref() {
            None => before.default_licence_product_id.clone(),
            Some("") => None,
            Some(requested) => Some(
                self.store
                    .licence_product(requested)
                    .await?
                    .ok_or_else(|| IdentityError::NotFound("licence product", requested.to_owned()))?
                    .id,
            ),
        };
        let moved = parent_id != before.parent_id.clone().unwrap_or_default();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if Store::sibling_named(&mut tx, &parent_id, &display_name, id).await? {
            return Err(IdentityError::AlreadyExists(
                "ROLE_NAME_USED",
                format!("a sibling role is already named '{display_name}'"),
            ));
        }
        let row = OrganizationRow {
            display_name: &display_name,
            parent_id: &parent_id,
            default_licence_product_id: product.as_deref(),
        };
        if !Store::update_organization(&mut tx, id, before.version, &row, now).await? {
            return Err(IdentityError::Stale("organization"));
        }
        if let Some(phone) = &changes.phone {
            Store::set_account_phone(&mut tx, &account_id, phone.trim(), now).await?;
        }
        if let Some(addresses) = &changes.addresses
            && let Err(index) = Store::replace_addresses(&mut tx, &account_id, addresses).await?
        {
            return Err(IdentityError::Invalid(vec![(
                "organization.addresses",
                format!("address {index} has an id that is not one of this organization's addresses"),
            )]));
        }
        if moved {
            Store::bump_role_tree_epoch(&mut tx).await?;
        }
        let after = serde_json::json!({
            "display_name": display_name,
            "parent_role_id": parent_id,
            "default_licence_product_id": product,
            "phone": changes.phone,
            "addresses_replaced": changes.addresses.as_ref().map(Vec::len),
        });
        let before_json = serde_json::json!({
            "display_name": before.display_name,
            "parent_role_id": before.parent_id,
            "default_licence_product_id": before.default_licence_product_id,
            "phone": account.phone,
        });
        Store::record_audit(
            &mut tx,
            audit(caller, "organization.update", "organization", id, id, before_json.to_string(), after.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        if moved {
            self.roles.access().roles_changed(vec![id.to_owned()]).await?;
        }
        self.view(caller, id).await
    }

    /// Deletes an organization without members, with its own roles; the account stays.
    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let organization = self.visible_organization(&actor, id).await?;
        if !actor.may_manage_everything() {
            return Err(IdentityError::NotAllowed("only system administrators may delete organizations"));
        }
        if !etag.is_empty() && etag != organization.version.to_string() {
            return Err(IdentityError::Stale("organization"));
        }
        if self.store.organization_member_count(id).await? > 0 {
            return Err(IdentityError::Refused(
                "ORGANIZATION_HAS_MEMBERS",
                "users are still in the organization: remove or delete them first".into(),
            ));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::delete_organization(&mut tx, id).await?;
        Store::bump_role_tree_epoch(&mut tx).await?;
        let before =
            serde_json::json!({ "display_name": organization.display_name, "account_id": organization.account_id });
        Store::record_audit(
            &mut tx,
            audit(caller, "organization.delete", "organization", id, id, before.to_string(), String::new()),
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().organization_removed(id).await
    }

    /// Takes a user out of the organization: their memberships of its roles and their
    /// administrator flag go; they stay an external user with their licence.
    pub async fn remove_member(
        &self,
        caller: &Caller,
        organization_id: &str,
        user_id: &str,
    ) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        self.visible_organization(&actor, organization_id).await?;
        if !actor.may_manage_everything() {
            return Err(IdentityError::NotAllowed(
                "only system administrators take users out of organizations; deactivate or delete the user instead",
            ));
        }
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        if user.organization_id.as_deref() != Some(organization_id) {
            return Err(IdentityError::Refused("USER_NOT_MEMBER", "the user is not in this organization".into()));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        Store::leave_organization_roles(&mut tx, user_id, organization_id).await?;
        Store::set_organization(&mut tx, user_id, None, false, now).await?;
        let before = serde_json::json!({ "organization_id": organization_id, "organization_administrator": user.is_organization_administrator() });
        Store::record_audit(
            &mut tx,
            audit(
                caller,
                "organization.remove_member",
                "user",
                user_id,
                organization_id,
                before.to_string(),
                "{}".into(),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.roles.access().users_changed(vec![user_id.to_owned()]).await?;
        self.store.shown_user(user_id).await
    }

    /// An organization the caller may see.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<(RoleRecord, i64), IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let organization = self.visible_organization(&actor, id).await?;
        let members = self.store.organization_member_count(id).await?;
        Ok((organization, members))
    }

    async fn visible_organization(&self, actor: &Actor, id: &str) -> Result<RoleRecord, IdentityError> {
        self.store
            .organization(id)
            .await?
            .filter(|_| actor.may_see_organization(id))
            .ok_or_else(|| IdentityError::NotFound("organization", id.to_owned()))
    }

    /// The organization if the caller manages it: NOT_FOUND when they may not see it,
    /// PERMISSION_DENIED when they see it but do not administer it.
    async fn managed_organization(&self, actor: &Actor, id: &str) -> Result<RoleRecord, IdentityError> {
        let organization = self.visible_organization(actor, id).await?;
        if actor.may_manage_organization(id) {
            Ok(organization)
        } else {
            Err(IdentityError::NotAllowed("only the organization's administrators may do this"))
        }
    }

    /// Members of an organization matching `filter`, by full name then id.
    pub async fn members(
        &self,
        caller: &Caller,
        id: &str,
        filter: &UserFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        self.managed_organization(&actor, id).await?;
        let filter = UserFilter { organization_id: id.to_owned(), ..filter.clone() };
        let mut members = self.store.users(&filter, after, limit).await?;
        self.store.fill_role_ids(&mut members).await?;
        Ok(members)
    }

    /// Makes a member an administrator of their organization (or takes the flag away).
    pub async fn set_administrator(
        &self,
        caller: &Caller,
        organization_id: &str,
        user_id: &str,
        administrator: bool,
    ) -> Result<UserRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        self.managed_organization(&actor, organization_id).await?;
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        if user.organization_id.as_deref() != Some(organization_id) {
            if actor.may_read_user(user.as_target()) {
                return Err(IdentityError::Refused("USER_NOT_MEMBER", "the user is not in this organization".into()));
            }
            return Err(IdentityError::UserNotFound(user_id.to_owned()));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if Store::set_organization_administrator(&mut tx, user_id, administrator, now).await? {
            let action =
                if administrator { "organization.promote_administrator" } else { "organization.demote_administrator" };
            let after = serde_json::json!({ "user_id": user_id, "organization_administrator": administrator });
            Store::record_audit(
                &mut tx,
                audit(caller, action, "user", user_id, organization_id, String::new(), after.to_string()),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.roles.access().users_changed(vec![user_id.to_owned()]).await?;
        self.store.shown_user(user_id).await
    }

    /// The seed's "Add users by email": each address gets its own result; the seats for
    /// every user to create are checked together first, so a short pool creates nothing.
    pub async fn add_users_by_email(
        &self,
        caller: &Caller,
        request: AddUsersByEmail,
    ) -> Result<Vec<AddResult>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let addresses = email::split_addresses(&request.emails);
        if addresses.is_empty() || addresses.len() > 100 {
            return Err(IdentityError::Invalid(vec![("emails", "must list 1 to 100 addresses".into())]));
        }
        let organization_id = match (request.organization_id.as_str(), &actor.organization_id) {
            ("", Some(own)) if actor.organization_administrator => own.clone(),
            (id, _) => id.to_owned(),
        };
        let organization = match organization_id.as_str() {
            "" if actor.may_manage_everything() => None,
            "" => return Err(IdentityError::NotAllowed("name the organization to add users to")),
            id => Some(self.managed_organization(&actor, id).await?),
        };
        if !request.licence_product_id.is_empty() && !actor.may_manage_everything() {
            return Err(IdentityError::NotAllowed("organization administrators may not choose the licence product"));
        }
        if request.organization_administrator && organization.is_none() {
            return Err(IdentityError::Refused(
                "ORGANIZATION_ADMINISTRATOR_NEEDS_ORGANIZATION",
                "an organization administrator needs an organization".into(),
            ));
        }
        if request.send_invitations {
            self.invitations.check_mailbox().await?;
        }
        let organization_id = organization.as_ref().map(|o| o.id.clone());
        let roles = self
            .roles
            .assignable("role_ids", &request.role_ids, UserKind::External, organization_id.as_deref())
            .await?;
        let account_id = organization.as_ref().and_then(|o| o.account_id.clone());

        let mut results: Vec<AddResult> = Vec::with_capacity(addresses.len());
        let mut planned: Vec<Planned> = Vec::new();
        let mut seen = HashSet::new();
        for (index, raw) in addresses.iter().enumerate() {
            let mut result = AddResult {
                email: raw.clone(),
                normalized_email: String::new(),
                outcome: AddOutcome::Failed("", String::new()),
                invitation: None,
            };
            match email::normalize(raw) {
                Err(problem) => result.outcome = AddOutcome::Failed("INVALID_EMAIL", format!("'{raw}' {problem}")),
                Ok(normalized) => {
                    result.normalized_email = normalized.clone();
                    if !seen.insert(normalized.clone()) {
                        result.outcome = AddOutcome::Failed(
                            "DUPLICATE_EMAIL_IN_REQUEST",
                            format!("'{raw}' appears earlier in the list"),
                        );
                    } else if let Some(existing) = self.store.user_by_email(&normalized).await? {
                        result.outcome =
                            if existing.organization_id.is_some() && existing.organization_id == organization_id {
                                AddOutcome::AlreadyMember { user_id: existing.id, contact_id: existing.contact_id }
                            } else {
                                AddOutcome::Failed(
                                    "EMAIL_ALREADY_USED",
                                    format!("another user already has the email '{raw}'"),
                                )
                            };
                    } else {
                        match self.matching_contact(&normalized, account_id.as_deref()).await? {
                            Ok(contact_id) => {
                                planned.push(Planned { index, email: raw.clone(), normalized, contact_id })
                            }
                            Err(outcome) => result.outcome = outcome,
                        }
                    }
                }
            }
            results.push(result);
        }

        let product =
            if planned.is_empty() { None } else { Some(self.licence_product(&request, organization.as_ref()).await?) };
        if let Some(product) = &product {
            let free = product.total_seats - product.used_seats;
            if free < planned.len() as i64 {
                return Err(IdentityError::NoFreeSeat(product.id.clone()));
            }
        }
        let start_page = self.settings.current().await?.stored.portal_start_page;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        for plan in &planned {
            let user_id = secrets::new_id();
            let local_part = plan.email.split('@').next().unwrap_or_default().to_owned();
            let user = NewUser {
                id: &user_id,
                contact_id: plan.contact_id.as_deref(),
                email: &plan.email,
                email_normalized: &plan.normalized,
                full_name: &local_part,
                kind: UserKind::External,
                system_administrator: false,
                password_hash: None,
                culture: "en-US",
                home_page: &start_page,
                origin: "bulk",
                organization_id: organization_id.as_deref(),
                organization_administrator: request.organization_administrator,
                account_id: account_id.as_deref(),
            };
            let outcome = match Store::insert_user(&mut tx, &user, now).await? {
                Insertion::Created => {
                    let product = product.as_ref().expect("planned users have a product");
                    if Store::take_seat(&mut tx, &user_id, &product.id, &caller.user_id, now).await?.is_none() {
                        // A parallel call took the last seats after the check: nothing of this call stays.
                        return Err(IdentityError::NoFreeSeat(product.id.clone()));
                    }
                    for role in &roles {
                        Store::add_membership(&mut tx, &role.id, &user_id, &caller.user_id, now).await?;
                    }
                    let created = self.store_created_contact(&mut tx, &user_id).await?;
                    let after = serde_json::json!({ "id": user_id, "email": plan.email, "organization_id": organization_id,
                        "role_ids": request.role_ids, "licence_product_id": product.id });
                    Store::record_audit(
                        &mut tx,
                        audit(
                            caller,
                            "user.create",
                            "user",
                            &user_id,
                            organization_id.as_deref().unwrap_or_default(),
                            String::new(),
                            after.to_string(),
                        ),
                        now,
                    )
                    .await?;
                    match &plan.contact_id {
                        Some(contact_id) => {
                            AddOutcome::CreatedForExistingContact { user_id, contact_id: contact_id.clone() }
                        }
                        None => AddOutcome::CreatedWithNewContact { user_id, contact_id: created },
                    }
                }
                Insertion::EmailTaken => AddOutcome::Failed(
                    "EMAIL_ALREADY_USED",
                    format!("another user already has the email '{}'", plan.email),
                ),
                Insertion::ContactTaken => {
                    AddOutcome::Failed("CONTACT_ALREADY_HAS_USER", "the matching contact already has a user".into())
                }
            };
            results[plan.index].outcome = outcome;
        }
        tx.commit().await?;
        if request.send_invitations {
            // Each invitation is its own change (a token and its email in one transaction);
            // one that fails is reported on its address, the users stay created.
            for result in &mut results {
                if let AddOutcome::CreatedWithNewContact { user_id, .. }
                | AddOutcome::CreatedForExistingContact { user_id, .. } = &result.outcome
                {
                    result.invitation =
                        Some(self.invitations.invite(caller, user_id).await.map(|i| i.id).map_err(|e| e.to_string()));
                }
            }
        }
        Ok(results)
    }

    async fn store_created_contact(
        &self,
        connection: &mut sqlx::AnyConnection,
        user_id: &str,
    ) -> Result<String, IdentityError> {
        let (contact_id,): (String,) =
            sqlx::query_as("SELECT contact_id FROM users WHERE id = $1").bind(user_id).fetch_one(connection).await?;
        Ok(contact_id)
    }

    /// The existing contact to reuse for an address: the one with that email (preferring
    /// the organization's account); none means a new contact. Several outside the account
    /// are ambiguous.
    async fn matching_contact(
        &self,
        normalized: &str,
        account_id: Option<&str>,
    ) -> Result<Result<Option<String>, AddOutcome>, IdentityError> {
        let contacts = self.store.contacts_with_email(normalized).await?;
        if let Some((id, _)) =
            contacts.iter().find(|(_, account)| account.is_some() && account.as_deref() == account_id)
        {
            return Ok(Ok(Some(id.clone())));
        }
        Ok(match contacts.as_slice() {
            [] => Ok(None),
            [(id, _)] => Ok(Some(id.clone())),
            _ => Err(AddOutcome::Failed(
                "CONTACT_AMBIGUOUS",
                "several contacts have this email; create that user with CreateUser naming the contact".into(),
            )),
        })
    }

    /// The product new users take seats of: the one named, else the organization's
    /// default, else the SspUserRegistrationLicPackage setting.
    async fn licence_product(
        &self,
        request: &AddUsersByEmail,
        organization: Option<&RoleRecord>,
    ) -> Result<crate::storage::ProductRecord, IdentityError> {
        let wanted = if !request.licence_product_id.is_empty() {
            request.licence_product_id.clone()
        } else if let Some(default) = organization.and_then(|o| o.default_licence_product_id.clone()) {
            default
        } else {
            self.settings.current().await?.stored.ssp_user_registration_lic_package
        };
        if wanted.is_empty() {
            return Err(IdentityError::Refused(
                "NO_LICENCE_PRODUCT",
                "name licence_product_id, set the organization's default product, or set SspUserRegistrationLicPackage"
                    .into(),
            ));
        }
        self.store.licence_product(&wanted).await?.ok_or(IdentityError::NotFound("licence product", wanted))
    }
}

fn audit<'a>(
    caller: &'a Caller,
    action: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    organization_id: &'a str,
    before_json: String,
    after_json: String,
) -> AuditEntry<'a> {
    AuditEntry {
        actor: caller,
        action,
        resource_type,
        resource_id,
        organization_id,
        before_json,
        after_json,
        request_id: "",
    }
}
