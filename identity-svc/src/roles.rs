//! The role use cases: create organizational and functional roles, read them, and make
//! users direct members; memberships as the access model reads them (direct, implied,
//! inherited up the tree).

use service_kit::{Caller, clock::Clock, secrets};

use crate::{
    access_link::AccessLink,
    authority::Authority,
    domain::{
        IdentityError,
        authority::Actor,
        roles::{self, RoleFacts},
        user::UserKind,
    },
    storage::{AuditEntry, MembershipRecord, NewRole, RoleFilter, RoleRecord, Store, UserRecord},
};

/// The kinds of role a caller may create (organizations come from OrganizationService).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatableKind {
    Organizational,
    Functional,
}

/// What CreateRole asks for.
#[derive(Debug, Clone)]
pub struct CreateRole {
    pub display_name: String,
    pub kind: CreatableKind,
    pub user_kind: Option<UserKind>,
    pub parent_role_id: String,
    pub organization_id: String,
    pub description: String,
}

/// What UpdateRole changes: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub parent_role_id: Option<String>,
}

/// How a user belongs to a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Direct {
        created_at: i64,
        created_by: String,
    },
    Implicit,
    /// Through the role named (a subordinate role the user is in, or their organization).
    Inherited {
        via: String,
    },
}

/// One role a user belongs to, with how far it is from the user.
#[derive(Debug, Clone)]
pub struct EffectiveRole {
    pub role: RoleRecord,
    pub source: Source,
    /// Steps from the user: 0 for direct and implied roles, 1 for their parents, …
    pub distance: i32,
}

/// One role a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub role_id: String,
    pub user_id: String,
    pub source: Source,
}

pub fn facts(role: &RoleRecord) -> RoleFacts<'_> {
    RoleFacts {
        id: &role.id,
        kind: &role.kind,
        user_kind: &role.user_kind,
        organization_id: role.organization_id.as_deref(),
        parent_id: role.parent_id.as_deref(),
    }
}

/// The role use cases.
#[derive(Debug, Clone)]
pub struct Roles {
    store: Store,
    clock: Clock,
    access: AccessLink,
    authority: Authority,
}

impl Roles {
    pub fn new(store: Store, clock: Clock, access: AccessLink, authority: Authority) -> Self {
        Self { store, clock, access, authority }
    }

    /// The link that tells access-svc about membership changes, for every use case that
    /// changes what access evaluates about users.
    pub fn access(&self) -> &AccessLink {
        &self.access
    }

    /// May the actor see this role? Employees see all; external users the built-in roles
    /// and the roles of their own organization.
    fn visible(actor: &Actor, role: &RoleRecord) -> bool {
        actor.caller.system_administrator
            || actor.caller.kind == service_kit::CallerKind::Employee
            || !role.well_known.is_empty()
            || role.organization_id.as_deref().is_some_and(|o| actor.may_see_organization(o))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<RoleRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        self.store
            .role(id)
            .await?
            .filter(|role| Self::visible(&actor, role))
            .ok_or_else(|| IdentityError::NotFound("role", id.to_owned()))
    }

    /// Checks that users of `kind` in `organization_id` can be made direct members of every
    /// role in `role_ids` (for user creation and bulk adds); the error names the field.
    pub async fn assignable(
        &self,
        field: &'static str,
        role_ids: &[String],
        kind: UserKind,
        organization_id: Option<&str>,
    ) -> Result<Vec<RoleRecord>, IdentityError> {
        let mut found = Vec::with_capacity(role_ids.len());
        for id in role_ids {
            let role = self.store.role(id).await?.ok_or_else(|| IdentityError::NotFound("role", id.clone()))?;
            if let Err(refusal) = roles::check_membership(facts(&role), kind, organization_id) {
                return Err(IdentityError::InvalidBecause(field, refusal.explain(id), refusal.reason()));
            }
            found.push(role);
        }
        Ok(found)
    }

    pub async fn create(&self, caller: &Caller, request: CreateRole) -> Result<RoleRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let name = request.display_name.trim();
        if name.is_empty() || name.chars().count() > 250 {
            return Err(IdentityError::Invalid(vec![("role.display_name", "must be 1 to 250 characters".into())]));
        }
        if request.description.chars().count() > 1000 {
            return Err(IdentityError::Invalid(vec![("role.description", "must be at most 1,000 characters".into())]));
        }
        let parent = match request.parent_role_id.as_str() {
            "" => None,
            id => Some(self.store.role(id).await?.ok_or_else(|| IdentityError::NotFound("role", id.to_owned()))?),
        };
        let (user_kind, organization_id) = match (request.kind, &parent) {
            (CreatableKind::Organizational, None) => {
                return Err(IdentityError::Invalid(vec![(
                    "role.parent_role_id",
                    "is required for an organizational role (its place in the tree)".into(),
                )]));
            }
            (CreatableKind::Organizational, Some(parent)) => {
                if parent.kind == "functional" {
                    return Err(IdentityError::Invalid(vec![(
                        "role.parent_role_id",
                        "an organizational role's parent must be organizational or an organization".into(),
                    )]));
                }
                (UserKind::from_stored(&parent.user_kind), parent.organization_id.clone())
            }
            (CreatableKind::Functional, Some(parent)) => {
                if parent.kind != "functional" {
                    return Err(IdentityError::Invalid(vec![(
                        "role.parent_role_id",
                        "a functional role's parent must be another functional role".into(),
                    )]));
                }
                (UserKind::from_stored(&parent.user_kind), parent.organization_id.clone())
            }
            (CreatableKind::Functional, None) => {
                let organization = match request.organization_id.as_str() {
                    "" => None,
                    id => Some(
                        self.store
                            .organization(id)
                            .await?
                            .ok_or_else(|| IdentityError::NotFound("organization", id.to_owned()))?
                            .id,
                    ),
                };
                let kind = match (request.user_kind, &organization) {
                    (_, Some(_)) => UserKind::External,
                    (Some(kind), None) => kind,
                    (None, None) => {
                        return Err(IdentityError::Invalid(vec![(
                            "role.user_kind",
                            "is required for a functional role without parent or organization".into(),
                        )]));
                    }
                };
                (kind, organization)
            }
        };
        // Whether the caller may create there is decided before the rest is checked.
        let allowed = match &organization_id {
            Some(organization) => actor.may_manage_organization(organization),
            None if user_kind == UserKind::Employee => actor.caller.system_administrator,
            None => actor.may_manage_everything(),
        };
        if !allowed {
            return Err(IdentityError::NotAllowed(
                "you may create roles only in an organization you administer (employee roles: system administrators)",
            ));
        }
        if request.user_kind.is_some_and(|kind| kind != user_kind) {
            return Err(IdentityError::InvalidBecause(
                "role.user_kind",
                "differs from the parent's or organization's kind of user".into(),
                "ROLE_KIND_MISMATCH",
            ));
        }
        let id = secrets::new_id();
        let now = self.clock.now();
        let kind = match request.kind {
            CreatableKind::Organizational => "organizational",
            CreatableKind::Functional => "functional",
        };
        let mut tx = self.store.begin().await?;
        let role = NewRole {
            id: &id,
            display_name: name,
            kind,
            user_kind: user_kind.as_str(),
            parent_id: parent.as_ref().map(|p| p.id.as_str()),
            organization_id: organization_id.as_deref(),
            description: &request.description,
            account_id: None,
            default_licence_product_id: None,
        };
        if !Store::insert_role(&mut tx, &role, now).await? {
            return Err(IdentityError::AlreadyExists(
                "ROLE_NAME_USED",
                format!("a sibling role is already named '{name}'"),
            ));
        }
        let after = serde_json::json!({ "id": id, "display_name": name, "kind": kind, "parent_role_id": role.parent_id,
            "organization_id": role.organization_id });
        Store::record_audit(
            &mut tx,
            AuditEntry {
                actor: caller,
                action: "role.create",
                resource_type: "role",
                resource_id: &id,
                organization_id: organization_id.as_deref().unwrap_or_default(),
                before_json: String::new(),
                after_json: after.to_string(),
                request_id: "",
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.store.role(&id).await?.ok_or(IdentityError::NotFound("role", id))
    }

    /// Makes users direct members of a role, all or nothing; returns the memberships made.
    /// Refuses (NOT_FOUND or PERMISSION_DENIED) a caller who may not assign the role's
    /// members.
    pub async fn require_assignable(&self, caller: &Caller, role_id: &str) -> Result<(), IdentityError> {
        let actor = self.authority.actor(caller).await?;
        self.assignable_by(&actor, role_id).await.map(drop)
    }

    pub async fn add_members(
        &self,
        caller: &Caller,
        role_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<MembershipRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let role = self.assignable_by(&actor, role_id).await?;
        let mut users: Vec<UserRecord> = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            let user = self.managed_user(&actor, id).await?;
            if let Err(refusal) = roles::check_membership(facts(&role), user.kind(), user.organization_id.as_deref()) {
                return Err(IdentityError::Refused(refusal.reason(), refusal.explain(role_id)));
            }
            users.push(user);
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut added = Vec::new();
        for user in &users {
            if Store::add_membership(&mut tx, role_id, &user.id, &caller.user_id, now).await? {
                Store::record_audit(
                    &mut tx,
                    AuditEntry {
                        actor: caller,
                        action: "role_membership.add",
                        resource_type: "role_membership",
                        resource_id: &format!("{role_id}/{}", user.id),
                        organization_id: user.organization_id.as_deref().unwrap_or_default(),
                        before_json: String::new(),
                        after_json: serde_json::json!({ "role_id": role_id, "user_id": user.id }).to_string(),
                        request_id: "",
                    },
                    now,
                )
                .await?;
                added.push(MembershipRecord {
                    role_id: role_id.to_owned(),
                    user_id: user.id.clone(),
                    created_at: now,
                    created_by: caller.user_id.clone(),
                });
            }
        }
        tx.commit().await?;
        self.access.users_changed(users.into_iter().map(|user| user.id).collect()).await?;
        Ok(added)
    }

    /// The role, when the actor may assign it: NOT_FOUND when they may not see it,
    /// PERMISSION_DENIED when they see it but do not manage its organization.
    async fn assignable_by(&self, actor: &Actor, role_id: &str) -> Result<RoleRecord, IdentityError> {
        let role = self
            .store
            .role(role_id)
            .await?
            .filter(|role| Self::visible(actor, role))
            .ok_or_else(|| IdentityError::NotFound("role", role_id.to_owned()))?;
        let manages_role = match role.organization_id.as_deref() {
            Some(organization) => actor.may_manage_organization(organization),
            None => actor.may_manage_everything(),
        };
        if !manages_role {
            return Err(IdentityError::NotAllowed("only the role's organization's administrators may assign it"));
        }
        Ok(role)
    }

    /// A user whose memberships the actor may change.
    async fn managed_user(&self, actor: &Actor, user_id: &str) -> Result<UserRecord, IdentityError> {
        let user = self
            .store
            .user(user_id)
            .await?
            .filter(|user| actor.may_read_user(user.as_target()))
            .ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        if !actor.may_manage_user(user.as_target()) {
            return Err(IdentityError::NotAllowed(
                "organization administrators assign only their organization's roles to their organization's users",
            ));
        }
        Ok(user)
    }

    /// Ends users' direct memberships of a role, all or nothing; returns the ones ended.
    pub async fn remove_members(
        &self,
        caller: &Caller,
        role_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<MembershipRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let role = self.assignable_by(&actor, role_id).await?;
        if roles::membership_is_implicit(facts(&role)) {
            let refusal = roles::MembershipRefusal::Implicit;
            return Err(IdentityError::Refused(refusal.reason(), refusal.explain(role_id)));
        }
        let mut users = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            users.push(self.managed_user(&actor, id).await?);
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut removed = Vec::new();
        for user in &users {
            if let Some(membership) = Store::remove_membership(&mut tx, role_id, &user.id).await? {
                let before = serde_json::json!({ "role_id": role_id, "user_id": user.id });
                Store::record_audit(
                    &mut tx,
                    AuditEntry {
                        actor: caller,
                        action: "role_membership.remove",
                        resource_type: "role_membership",
                        resource_id: &format!("{role_id}/{}", user.id),
                        organization_id: user.organization_id.as_deref().unwrap_or_default(),
                        before_json: before.to_string(),
                        after_json: String::new(),
                        request_id: "",
                    },
                    now,
                )
                .await?;
                removed.push(membership);
            }
        }
        tx.commit().await?;
        self.access.users_changed(users.into_iter().map(|user| user.id).collect()).await?;
        Ok(removed)
    }

    /// The roles the caller may see matching `filter`, by display name then id.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: RoleFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<RoleRecord>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        if !actor.caller.system_administrator && actor.caller.kind != service_kit::CallerKind::Employee {
            filter.visible_organization = Some(actor.organization_id.clone().unwrap_or_default());
        }
        filter.name_key = match filter.name_key.trim().to_lowercase().as_str() {
            "all portal users" => "all external users".to_owned(),
            other => other.to_owned(),
        };
        self.store.roles(&filter, after, limit).await
    }

    /// A role the actor may change or delete: built-in roles and organizations are refused.
    async fn changeable(&self, actor: &Actor, id: &str) -> Result<RoleRecord, IdentityError> {
        let role = self.assignable_by(actor, id).await?;
        if role.kind == "organization" {
            return Err(IdentityError::Refused(
                "USE_ORGANIZATION_SERVICE",
                "an organization's own role is changed through OrganizationService".into(),
            ));
        }
        if !role.well_known.is_empty() {
            return Err(IdentityError::Refused("ROLE_BUILTIN", "built-in roles cannot be changed or deleted".into()));
        }
        if role.user_kind == "employee" && !actor.caller.system_administrator {
            return Err(IdentityError::NotAllowed("employee roles are changed by system administrators"));
        }
        Ok(role)
    }

    /// Renames, describes or moves a role within its kind of user and organization.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        etag: &str,
        changes: RoleChanges,
    ) -> Result<RoleRecord, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let before = self.changeable(&actor, id).await?;
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("role"));
        }
        let mut after = before.clone();
        if let Some(name) = &changes.display_name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 250 {
                return Err(IdentityError::Invalid(vec![("role.display_name", "must be 1 to 250 characters".into())]));
            }
            after.display_name = name.to_owned();
        }
        if let Some(description) = &changes.description {
            if description.chars().count() > 1000 {
                return Err(IdentityError::Invalid(vec![(
                    "role.description",
                    "must be at most 1,000 characters".into(),
                )]));
            }
            after.description = description.clone();
        }
        if let Some(parent_id) = changes.parent_role_id.as_deref().filter(|p| Some(*p) != before.parent_id.as_deref()) {
            let chain = self.store.role_with_ancestors(parent_id).await?;
            let parent = chain.first().ok_or_else(|| IdentityError::NotFound("role", parent_id.to_owned()))?;
            if chain.iter().any(|ancestor| ancestor.id == before.id) {
                return Err(IdentityError::InvalidBecause(
                    "role.parent_role_id",
                    "is the role itself or one of its descendants".into(),
                    "ROLE_CYCLE",
                ));
            }
            if parent.user_kind != before.user_kind || (parent.kind == "functional") != (before.kind == "functional") {
                return Err(IdentityError::InvalidBecause(
                    "role.parent_role_id",
                    "must be a role of the same kind and for the same kind of user".into(),
                    "ROLE_KIND_MISMATCH",
                ));
            }
            if parent.organization_id != before.organization_id {
                return Err(IdentityError::Refused(
                    "ROLE_ORGANIZATION_FIXED",
                    "a role cannot move into or out of an organization".into(),
                ));
            }
            after.parent_id = Some(parent.id.clone());
        }
        let moved = after.parent_id != before.parent_id;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if Store::sibling_named(&mut tx, after.parent_id.as_deref().unwrap_or_default(), &after.display_name, id)
            .await?
        {
            return Err(IdentityError::AlreadyExists(
                "ROLE_NAME_USED",
                format!("a sibling role is already named '{}'", after.display_name),
            ));
        }
        if !Store::update_role(&mut tx, &after, now).await? {
            return Err(IdentityError::Stale("role"));
        }
        if moved {
            Store::bump_role_tree_epoch(&mut tx).await?;
        }
        let snapshot = |role: &RoleRecord| {
            serde_json::json!({ "display_name": role.display_name, "description": role.description, "parent_role_id": role.parent_id })
                .to_string()
        };
        Store::record_audit(
            &mut tx,
            role_audit(caller, "role.update", &before, snapshot(&before), snapshot(&after)),
            now,
        )
        .await?;
        tx.commit().await?;
        if moved {
            self.access.roles_changed(vec![id.to_owned()]).await?;
        }
        self.store.role(id).await?.ok_or_else(|| IdentityError::NotFound("role", id.to_owned()))
    }

    /// Deletes a role without subordinate roles; its direct memberships end with it when
    /// `force`, otherwise members refuse the deletion.
    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str, force: bool) -> Result<(), IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let before = self.changeable(&actor, id).await?;
        if !etag.is_empty() && etag != before.version.to_string() {
            return Err(IdentityError::Stale("role"));
        }
        if self.store.child_count(id).await? > 0 {
            return Err(IdentityError::Refused(
                "ROLE_HAS_CHILDREN",
                "roles sit under this one: delete or move them first".into(),
            ));
        }
        if !force && !self.store.members_page(id, "", 1).await?.is_empty() {
            return Err(IdentityError::Refused(
                "ROLE_HAS_MEMBERS",
                "users are members of this role: remove them first, or delete with force".into(),
            ));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let members = Store::delete_role(&mut tx, id).await?;
        let before_json = serde_json::json!({ "display_name": before.display_name, "members": members }).to_string();
        Store::record_audit(&mut tx, role_audit(caller, "role.delete", &before, before_json, String::new()), now)
            .await?;
        tx.commit().await?;
        self.access.role_removed(id).await?;
        self.access.users_changed(members).await
    }

    /// Direct members of a role the caller may see, by user id after `after_user_id`.
    pub async fn members(
        &self,
        caller: &Caller,
        role_id: &str,
        after_user_id: &str,
        limit: i64,
    ) -> Result<Vec<MembershipRecord>, IdentityError> {
        self.get(caller, role_id).await?;
        let actor = self.authority.actor(caller).await?;
        let mut visible = Vec::new();
        for membership in self.store.members_page(role_id, after_user_id, limit).await? {
            // External callers see only the members they may read (their organization's).
            let readable = match self.store.user(&membership.user_id).await? {
                Some(user) => actor.may_read_user(user.as_target()),
                None => false,
            };
            if readable {
                visible.push(membership);
            }
        }
        Ok(visible)
    }

    /// The roles a user belongs to: direct memberships, and with `include_inherited` also
    /// the implied root and organization and every role above them.
    pub async fn memberships_of(
        &self,
        caller: &Caller,
        user_id: &str,
        include_inherited: bool,
    ) -> Result<Vec<Membership>, IdentityError> {
        let actor = self.authority.actor(caller).await?;
        let user = self
            .store
            .user(user_id)
            .await?
            .filter(|user| actor.may_read_user(user.as_target()))
            .ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let mut memberships: Vec<Membership> = self
            .effective_roles(&user)
            .await?
            .into_iter()
            .filter(|role| include_inherited || matches!(role.source, Source::Direct { .. }))
            .map(|role| Membership { role_id: role.role.id, user_id: user_id.to_owned(), source: role.source })
            .collect();
        memberships.sort_by(|a, b| a.role_id.cmp(&b.role_id));
        Ok(memberships)
    }

    /// Every role `user` belongs to, each once at its smallest distance: direct
    /// memberships and the implied root and organization at distance 0, the roles above
    /// them at their number of steps. Ordered by distance, functional roles before
    /// organizational ones at equal distance, as permission evaluation walks them.
    pub async fn effective_roles(&self, user: &UserRecord) -> Result<Vec<EffectiveRole>, IdentityError> {
        let mut starts: Vec<(String, Source)> = self
            .store
            .memberships_of(&user.id)
            .await?
            .into_iter()
            .map(|m| (m.role_id, Source::Direct { created_at: m.created_at, created_by: m.created_by }))
            .collect();
        let root = match user.kind() {
            UserKind::External => roles::ALL_EXTERNAL_USERS,
            UserKind::Employee => roles::ALL_EMPLOYEES,
        };
        for implied in std::iter::once(root.to_owned()).chain(user.organization_id.clone()) {
            if !starts.iter().any(|(id, _)| *id == implied) {
                starts.push((implied, Source::Implicit));
            }
        }
        let mut found: Vec<EffectiveRole> = Vec::new();
        for (start, source) in starts {
            let chain = self.store.role_with_ancestors(&start).await?;
            for (distance, role) in chain.iter().enumerate() {
                let source = match distance {
                    0 => source.clone(),
                    _ => Source::Inherited { via: chain[distance - 1].id.clone() },
                };
                let distance = i32::try_from(distance).unwrap_or(i32::MAX);
                match found.iter_mut().find(|known| known.role.id == role.id) {
                    Some(known) if known.distance <= distance => {}
                    Some(known) => {
                        known.distance = distance;
                        known.source = source;
                    }
                    None => found.push(EffectiveRole { role: role.clone(), source, distance }),
                }
            }
        }
        found.sort_by(|a, b| {
            (a.distance, a.role.kind != "functional", &a.role.id).cmp(&(
                b.distance,
                b.role.kind != "functional",
                &b.role.id,
            ))
        });
        Ok(found)
    }
}

fn role_audit<'a>(
    caller: &'a Caller,
    action: &'a str,
    role: &'a RoleRecord,
    before_json: String,
    after_json: String,
) -> AuditEntry<'a> {
    AuditEntry {
        actor: caller,
        action,
        resource_type: "role",
        resource_id: &role.id,
        organization_id: role.organization_id.as_deref().unwrap_or_default(),
        before_json,
        after_json,
        request_id: "",
    }
}
