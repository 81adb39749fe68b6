//! What the other services ask identity about people and the role tree: a user's access
//! profile with its version counters (access-svc), and batch lookups of users, contacts,
//! accounts, organizations and role ancestries (case-svc, partner-svc, notify-svc).

use crate::{
    domain::IdentityError,
    roles::{EffectiveRole, Roles},
    storage::{AccountSummaryRow, ContactSummaryRow, RoleRecord, Store, UserRecord, UserSummaryRow},
};

/// At most this many ids per batch lookup.
pub const MAX_BATCH: usize = 500;

/// What permission evaluation needs about one user.
#[derive(Debug, Clone)]
pub struct AccessProfile {
    pub user: UserRecord,
    pub roles: Vec<EffectiveRole>,
    pub membership_epoch: i64,
    pub role_tree_epoch: i64,
}

/// An organization with its administrators.
#[derive(Debug, Clone)]
pub struct OrganizationSummary {
    pub role: RoleRecord,
    pub administrator_user_ids: Vec<String>,
}

/// A role with its ancestors, parent first.
#[derive(Debug, Clone)]
pub struct RoleAncestry {
    pub role: RoleRecord,
    pub ancestor_ids: Vec<String>,
}

/// Rows found for a batch, and the ids that matched nothing.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub rows: Vec<T>,
    pub missing: Vec<String>,
}

/// The directory use cases.
#[derive(Debug, Clone)]
pub struct Directory {
    store: Store,
    roles: Roles,
}

/// Refuses a batch beyond [`MAX_BATCH`] ids, naming the field.
fn bounded<'a>(field: &'static str, ids: &'a [String]) -> Result<&'a [String], IdentityError> {
    if ids.len() > MAX_BATCH {
        return Err(IdentityError::Invalid(vec![(
            field,
            format!("at most {MAX_BATCH} ids per call, got {}", ids.len()),
        )]));
    }
    Ok(ids)
}

/// Splits `ids` into the rows found (in request order) and the ids without one.
fn found<T>(ids: &[String], rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> Found<T> {
    let missing = ids.iter().filter(|id| !rows.iter().any(|row| id_of(row) == id.as_str())).cloned().collect();
    Found { rows, missing }
}

impl Directory {
    pub fn new(store: Store, roles: Roles) -> Self {
        Self { store, roles }
    }

    /// The user's kind, flags, organization, licence and every role they are in, with the
    /// counters read before the profile so a cache keyed by them is never newer than its data.
    pub async fn access_profile(&self, user_id: &str) -> Result<AccessProfile, IdentityError> {
        if user_id.is_empty() {
            return Err(IdentityError::Invalid(vec![("user_id", "the user id is required".into())]));
        }
        let role_tree_epoch = self.store.role_tree_epoch().await?;
        let membership_epoch = self.store.access_epochs(&[user_id.to_owned()]).await?[0];
        let user = self.store.user(user_id).await?.ok_or_else(|| IdentityError::UserNotFound(user_id.to_owned()))?;
        let roles = self.roles.effective_roles(&user).await?;
        Ok(AccessProfile { user, roles, membership_epoch, role_tree_epoch })
    }

    /// The users' access epochs in request order (0 for unknown users) and the role tree's.
    pub async fn epochs(&self, user_ids: &[String]) -> Result<(Vec<i64>, i64), IdentityError> {
        let users = self.store.access_epochs(bounded("user_ids", user_ids)?).await?;
        Ok((users, self.store.role_tree_epoch().await?))
    }

    pub async fn users(&self, ids: &[String]) -> Result<Found<UserSummaryRow>, IdentityError> {
        let rows = self.store.users_by_ids(bounded("user_ids", ids)?).await?;
        Ok(found(ids, rows, |row| &row.id))
    }

    /// A page of a role's active users (see [`Store::role_users_page`]); NOT_FOUND for an
    /// unknown role.
    pub async fn role_users(
        &self,
        role_id: &str,
        include_descendants: bool,
        after_user_id: &str,
        limit: i64,
    ) -> Result<Vec<UserSummaryRow>, IdentityError> {
        if role_id.is_empty() {
            return Err(IdentityError::Invalid(vec![("role_id", "the role id is required".into())]));
        }
        if self.store.role_with_ancestors(role_id).await?.is_empty() {
            return Err(IdentityError::NotFound("role", role_id.to_owned()));
        }
        self.store.role_users_page(role_id, include_descendants, after_user_id, limit).await
    }

    pub async fn contacts(&self, ids: &[String]) -> Result<Found<ContactSummaryRow>, IdentityError> {
        let rows = self.store.contacts_by_ids(bounded("contact_ids", ids)?).await?;
        Ok(found(ids, rows, |row| &row.id))
    }

    pub async fn accounts(&self, ids: &[String]) -> Result<Found<AccountSummaryRow>, IdentityError> {
        let rows = self.store.accounts_by_ids(bounded("account_ids", ids)?).await?;
        Ok(found(ids, rows, |row| &row.id))
    }

    pub async fn organizations(&self, ids: &[String]) -> Result<Found<OrganizationSummary>, IdentityError> {
        let roles = self.store.roles_by_ids(bounded("organization_ids", ids)?).await?;
        let mut rows = Vec::with_capacity(roles.len());
        for role in roles.into_iter().filter(|role| role.kind == "organization") {
            let administrator_user_ids = self.store.organization_administrators(&role.id).await?;
            rows.push(OrganizationSummary { role, administrator_user_ids });
        }
        Ok(found(ids, rows, |row| &row.role.id))
    }

    pub async fn role_ancestries(&self, ids: &[String]) -> Result<(Found<RoleAncestry>, i64), IdentityError> {
        let epoch = self.store.role_tree_epoch().await?;
        let mut rows = Vec::new();
        for id in bounded("role_ids", ids)? {
            let mut chain = self.store.role_with_ancestors(id).await?.into_iter();
            if let Some(role) = chain.next() {
                rows.push(RoleAncestry { role, ancestor_ids: chain.map(|ancestor| ancestor.id).collect() });
            }
        }
        Ok((found(ids, rows, |row| &row.role.id), epoch))
    }
}
