//! The role tree, portal organizations (roles of kind `organization`), accounts and
//! direct memberships of users.

use std::collections::HashMap;

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::{Store, UserRecord};
use crate::domain::IdentityError;

/// A role as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRecord {
    pub id: String,
    pub display_name: String,
    pub kind: String,
    pub user_kind: String,
    pub parent_id: Option<String>,
    pub organization_id: Option<String>,
    pub well_known: String,
    pub description: String,
    pub account_id: Option<String>,
    pub default_licence_product_id: Option<String>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A role to create.
#[derive(Debug, Clone)]
pub struct NewRole<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub kind: &'a str,
    pub user_kind: &'a str,
    pub parent_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub description: &'a str,
    pub account_id: Option<&'a str>,
    pub default_licence_product_id: Option<&'a str>,
}

/// An account (a customer or partner company).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRecord {
    pub id: String,
    pub name: String,
    pub r#type: String,
    pub phone: String,
    pub web: String,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A direct membership of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRecord {
    pub role_id: String,
    pub user_id: String,
    pub created_at: Millis,
    pub created_by: String,
}

impl Store {
    pub async fn role(&self, id: &str) -> Result<Option<RoleRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM roles WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// The organization (a role of kind `organization`) with this id.
    pub async fn organization(&self, id: &str) -> Result<Option<RoleRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM roles WHERE id = $1 AND kind = 'organization'")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// `id` and every role above it, nearest first.
    pub async fn role_with_ancestors(&self, id: &str) -> Result<Vec<RoleRecord>, IdentityError> {
        let mut chain = Vec::new();
        let mut next = Some(id.to_owned());
        while let Some(id) = next.take() {
            // The tree is shallow and cycles are refused on write; the bound guards anyway.
            if chain.len() > 64 {
                return Err(IdentityError::Corrupt(format!("role tree too deep at {id}")));
            }
            let Some(role) = self.role(&id).await? else { break };
            next = role.parent_id.clone();
            chain.push(role);
        }
        Ok(chain)
    }

    /// Roles whose display name (or the alias "All portal users") matches `name`,
    /// case-insensitively, optionally under one parent.
    pub async fn roles_named(&self, name: &str) -> Result<Vec<RoleRecord>, IdentityError> {
        let key = match name.trim().to_lowercase().as_str() {
            "all portal users" => "all external users".to_owned(),
            other => other.to_owned(),
        };
        Ok(sqlx::query_as("SELECT * FROM roles WHERE name_key = $1 ORDER BY id")
            .bind(key)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Inserts a role; `false` when a sibling already has the name.
    pub async fn insert_role(
        connection: &mut AnyConnection,
        role: &NewRole<'_>,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let name_key = role.display_name.trim().to_lowercase();
        let sibling: Option<(String,)> =
            sqlx::query_as("SELECT id FROM roles WHERE COALESCE(parent_id, '') = $1 AND name_key = $2")
                .bind(role.parent_id.unwrap_or_default())
                .bind(&name_key)
                .fetch_optional(&mut *connection)
                .await?;
        if sibling.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO roles (id, display_name, name_key, kind, user_kind, parent_id, organization_id, description, \
             account_id, default_licence_product_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(role.id)
        .bind(role.display_name.trim())
        .bind(name_key)
        .bind(role.kind)
        .bind(role.user_kind)
        .bind(role.parent_id)
        .bind(role.organization_id)
        .bind(role.description)
        .bind(role.account_id)
        .bind(role.default_licence_product_id)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        Ok(true)
    }

    pub async fn account(&self, id: &str) -> Result<Option<AccountRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn insert_account(connection: &mut AnyConnection, account: &AccountRecord) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO accounts (id, name, type, phone, web, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&account.id)
        .bind(&account.name)
        .bind(&account.r#type)
        .bind(&account.phone)
        .bind(&account.web)
        .bind(account.created_at)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// The organization bound to `account_id`, if any.
    pub async fn organization_of_account(&self, account_id: &str) -> Result<Option<RoleRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM roles WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?)
    }

    /// How many users are in the organization.
    pub async fn organization_member_count(&self, organization_id: &str) -> Result<i64, IdentityError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(count)
    }

    /// Makes `user_id` a direct member of `role_id`; `false` when it already was.
    pub async fn add_membership(
        connection: &mut AnyConnection,
        role_id: &str,
        user_id: &str,
        created_by: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let added = sqlx::query(
            "INSERT INTO role_user_members (role_id, user_id, created_at, created_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (role_id, user_id) DO NOTHING",
        )
        .bind(role_id)
        .bind(user_id)
        .bind(now)
        .bind(created_by)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if added == 1 {
            Store::bump_access_epoch(connection, user_id).await?;
        }
        Ok(added == 1)
    }

    /// Ends a direct membership; returns it, or `None` when there was none.
    pub async fn remove_membership(
        connection: &mut AnyConnection,
        role_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>, IdentityError> {
        let removed: Option<MembershipRecord> =
            sqlx::query_as("DELETE FROM role_user_members WHERE role_id = $1 AND user_id = $2 RETURNING *")
                .bind(role_id)
                .bind(user_id)
                .fetch_optional(&mut *connection)
                .await?;
        if removed.is_some() {
            Store::bump_access_epoch(connection, user_id).await?;
        }
        Ok(removed)
    }

    /// Fills in the direct role memberships of `users`, in one query for all of them.
    pub async fn fill_role_ids(&self, users: &mut [UserRecord]) -> Result<(), IdentityError> {
        if users.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT user_id, role_id FROM role_user_members WHERE user_id IN ({}) ORDER BY role_id",
            super::directory::placeholders(1, users.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for user in users.iter() {
            query = query.bind(user.id.clone());
        }
        let mut role_ids: HashMap<String, Vec<String>> = HashMap::new();
        for (user_id, role_id) in query.fetch_all(&self.db.pool).await? {
            role_ids.entry(user_id).or_default().push(role_id);
        }
        for user in users {
            user.role_ids = role_ids.remove(&user.id).unwrap_or_default();
        }
        Ok(())
    }

    /// One user with their direct role memberships filled in.
    pub async fn with_role_ids(&self, user: UserRecord) -> Result<UserRecord, IdentityError> {
        let mut users = [user];
        self.fill_role_ids(&mut users).await?;
        let [user] = users;
        Ok(user)
    }

    /// A user as an answer shows them, with their direct role memberships.
    pub async fn shown_user(&self, id: &str) -> Result<UserRecord, IdentityError> {
        let user = self.user(id).await?.ok_or_else(|| IdentityError::UserNotFound(id.to_owned()))?;
        self.with_role_ids(user).await
    }

    /// The direct memberships of a user.
    pub async fn memberships_of(&self, user_id: &str) -> Result<Vec<MembershipRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM role_user_members WHERE user_id = $1 ORDER BY role_id")
            .bind(user_id)
            .fetch_all(&self.db.pool)
            .await?)
    }
}

/// What ListRoles filters by; empty strings and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct RoleFilter {
    pub kind: String,
    pub user_kind: String,
    pub parent_role_id: String,
    pub descendants_of_role_id: String,
    pub organization_id: String,
    /// Lowercased exact name.
    pub name_key: String,
    pub well_known: String,
    /// For external callers: only built-in roles and the roles of this organization.
    pub visible_organization: Option<String>,
}

impl Store {
    /// Up to `limit` roles matching `filter`, by display name then id, after `after`.
    pub async fn roles(
        &self,
        filter: &RoleFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<RoleRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        let (restricted, organization) = match &filter.visible_organization {
            Some(organization) => (1_i16, organization.as_str()),
            None => (0, ""),
        };
        Ok(sqlx::query_as(
            "WITH RECURSIVE below (id) AS ( \
                 SELECT id FROM roles WHERE parent_id = $5 \
                 UNION SELECT r.id FROM roles r JOIN below b ON r.parent_id = b.id) \
             SELECT * FROM roles WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR user_kind = $2) \
             AND ($3 = '' OR parent_id = $3) AND ($4 = '' OR organization_id = $4) \
             AND ($5 = '' OR id IN (SELECT id FROM below)) AND ($6 = '' OR name_key = $6) \
             AND ($7 = '' OR well_known = $7) \
             AND ($8 = 0 OR well_known <> '' OR organization_id = $9) \
             AND ($10 = '' OR display_name > $11 OR (display_name = $11 AND id > $10)) \
             ORDER BY display_name, id LIMIT $12",
        )
        .bind(&filter.kind)
        .bind(&filter.user_kind)
        .bind(&filter.parent_role_id)
        .bind(&filter.organization_id)
        .bind(&filter.descendants_of_role_id)
        .bind(&filter.name_key)
        .bind(&filter.well_known)
        .bind(restricted)
        .bind(organization)
        .bind(after_id)
        .bind(after_name)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Rewrites a role's name, description and parent when its version is still `version`.
    pub async fn update_role(
        connection: &mut AnyConnection,
        role: &RoleRecord,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE roles SET display_name = $1, name_key = $2, description = $3, parent_id = $4, updated_at = $5, \
             version = version + 1 WHERE id = $6 AND version = $7",
        )
        .bind(&role.display_name)
        .bind(role.display_name.to_lowercase())
        .bind(&role.description)
        .bind(&role.parent_id)
        .bind(now)
        .bind(&role.id)
        .bind(role.version)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// How many roles sit directly under `id`.
    pub async fn child_count(&self, id: &str) -> Result<i64, IdentityError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM roles WHERE parent_id = $1").bind(id).fetch_one(&self.db.pool).await?;
        Ok(count)
    }

    /// Deletes a role and its direct memberships; returns the users who were in it.
    pub async fn delete_role(connection: &mut AnyConnection, id: &str) -> Result<Vec<String>, IdentityError> {
        let members: Vec<(String,)> =
            sqlx::query_as("DELETE FROM role_user_members WHERE role_id = $1 RETURNING user_id")
                .bind(id)
                .fetch_all(&mut *connection)
                .await?;
        for (user_id,) in &members {
            Store::bump_access_epoch(&mut *connection, user_id).await?;
        }
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(id).execute(&mut *connection).await?;
        Store::bump_role_tree_epoch(connection).await?;
        Ok(members.into_iter().map(|(user_id,)| user_id).collect())
    }

    /// Up to `limit` direct memberships of a role, by user id, after `after_user_id`.
    pub async fn members_page(
        &self,
        role_id: &str,
        after_user_id: &str,
        limit: i64,
    ) -> Result<Vec<MembershipRecord>, IdentityError> {
        Ok(sqlx::query_as(
            "SELECT * FROM role_user_members WHERE role_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3",
        )
        .bind(role_id)
        .bind(after_user_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
