//! The role tree, portal organizations (roles of kind `organization`), accounts and
//! direct memberships of users.

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::Store;
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

    /// The direct memberships of a user.
    pub async fn memberships_of(&self, user_id: &str) -> Result<Vec<MembershipRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM role_user_members WHERE user_id = $1 ORDER BY role_id")
            .bind(user_id)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// The direct members of a role.
    pub async fn members_of(&self, role_id: &str) -> Result<Vec<MembershipRecord>, IdentityError> {
        Ok(sqlx::query_as("SELECT * FROM role_user_members WHERE role_id = $1 ORDER BY user_id")
            .bind(role_id)
            .fetch_all(&self.db.pool)
            .await?)
    }
}
