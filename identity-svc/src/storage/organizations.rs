//! Portal organizations beyond their creation: profile changes, listing, deletion and
//! membership removal.

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::{RoleRecord, Store};
use crate::domain::IdentityError;

/// What ListOrganizations filters by; empty strings and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub parent_role_id: String,
    pub account_id: String,
    pub partner: Option<bool>,
    /// Lowercased text the display name must contain.
    pub text: String,
    /// Only this organization (an external caller's own).
    pub only_id: Option<String>,
}

/// The new values of an organization's own row.
#[derive(Debug, Clone)]
pub struct OrganizationRow<'a> {
    pub display_name: &'a str,
    pub parent_id: &'a str,
    pub default_licence_product_id: Option<&'a str>,
}

impl Store {
    /// Rewrites the organization's row when its version is still `version`; false when
    /// it changed meanwhile.
    pub async fn update_organization(
        connection: &mut AnyConnection,
        id: &str,
        version: i64,
        row: &OrganizationRow<'_>,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE roles SET display_name = $1, name_key = $2, parent_id = $3, default_licence_product_id = $4, \
             updated_at = $5, version = version + 1 WHERE id = $6 AND version = $7",
        )
        .bind(row.display_name)
        .bind(row.display_name.to_lowercase())
        .bind(row.parent_id)
        .bind(row.default_licence_product_id)
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Whether a sibling under `parent_id` other than `id` has the name.
    pub async fn sibling_named(
        connection: &mut AnyConnection,
        parent_id: &str,
        name: &str,
        id: &str,
    ) -> Result<bool, IdentityError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM roles WHERE COALESCE(parent_id, '') = $1 AND name_key = $2 AND id <> $3")
                .bind(parent_id)
                .bind(name.trim().to_lowercase())
                .bind(id)
                .fetch_optional(connection)
                .await?;
        Ok(found.is_some())
    }

    pub async fn set_account_phone(
        connection: &mut AnyConnection,
        account_id: &str,
        phone: &str,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE accounts SET phone = $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(phone)
            .bind(now)
            .bind(account_id)
            .execute(connection)
            .await?;
        Ok(())
    }

    /// Up to `limit` organizations matching `filter`, by display name then id, after `after`.
    pub async fn organizations(
        &self,
        filter: &OrganizationFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<RoleRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        let partner = filter.partner.map_or(-1, i16::from);
        Ok(sqlx::query_as(
            "SELECT * FROM roles WHERE kind = 'organization' \
             AND ($1 = '' OR parent_id = $1) AND ($2 = '' OR account_id = $2) \
             AND ($3 = -1 OR (CASE WHEN parent_id = 'partners' THEN 1 ELSE 0 END) = $3) \
             AND ($4 = '' OR name_key LIKE '%' || $4 || '%') AND ($5 = '' OR id = $5) \
             AND ($6 = '' OR display_name > $7 OR (display_name = $7 AND id > $6)) \
             ORDER BY display_name, id LIMIT $8",
        )
        .bind(&filter.parent_role_id)
        .bind(&filter.account_id)
        .bind(partner)
        .bind(&filter.text)
        .bind(filter.only_id.as_deref().unwrap_or_default())
        .bind(after_id)
        .bind(after_name)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Deletes an organization's role with its subordinate and functional roles and their
    /// memberships. The caller has checked that no user is in it.
    pub async fn delete_organization(connection: &mut AnyConnection, id: &str) -> Result<(), IdentityError> {
        for statement in [
            "DELETE FROM role_user_members WHERE role_id IN (SELECT id FROM roles WHERE organization_id = $1)",
            "DELETE FROM roles WHERE organization_id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *connection).await?;
        }
        Ok(())
    }

    /// Removes a user's direct memberships of an organization's roles.
    pub async fn leave_organization_roles(
        connection: &mut AnyConnection,
        user_id: &str,
        organization_id: &str,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "DELETE FROM role_user_members WHERE user_id = $1 \
             AND role_id IN (SELECT id FROM roles WHERE organization_id = $2)",
        )
        .bind(user_id)
        .bind(organization_id)
        .execute(connection)
        .await?;
        Ok(())
    }
}

/// What ListAccounts filters by; empty strings and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub r#type: String,
    /// Lowercased text the name must contain.
    pub text: String,
    pub has_organization: Option<bool>,
    /// Only this account (an external caller's organization's).
    pub only_id: Option<String>,
}

impl Store {
    /// Up to `limit` accounts matching `filter`, by name then id, after `after`.
    pub async fn accounts(
        &self,
        filter: &AccountFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<super::AccountRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        Ok(sqlx::query_as(
            "SELECT a.* FROM accounts a WHERE ($1 = '' OR a.type = $1) \
             AND ($2 = '' OR lower(a.name) LIKE '%' || $2 || '%') \
             AND ($3 = -1 OR (CASE WHEN EXISTS (SELECT 1 FROM roles r WHERE r.account_id = a.id) THEN 1 ELSE 0 END) = $3) \
             AND ($4 = '' OR a.id = $4) AND ($5 = '' OR a.name > $6 OR (a.name = $6 AND a.id > $5)) \
             ORDER BY a.name, a.id LIMIT $7",
        )
        .bind(&filter.r#type)
        .bind(&filter.text)
        .bind(filter.has_organization.map_or(-1, i16::from))
        .bind(filter.only_id.as_deref().unwrap_or_default())
        .bind(after_id)
        .bind(after_name)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Rewrites an account's own fields when its version is still `account.version`.
    pub async fn update_account(
        connection: &mut AnyConnection,
        account: &super::AccountRecord,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE accounts SET name = $1, type = $2, phone = $3, web = $4, updated_at = $5, version = version + 1 \
             WHERE id = $6 AND version = $7",
        )
        .bind(&account.name)
        .bind(&account.r#type)
        .bind(&account.phone)
        .bind(&account.web)
        .bind(now)
        .bind(&account.id)
        .bind(account.version)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Deletes an account nothing refers to (no organization, contact or department) with
    /// its addresses; false when something does.
    pub async fn delete_account(connection: &mut AnyConnection, id: &str) -> Result<bool, IdentityError> {
        let (used,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM roles WHERE account_id = $1) + (SELECT COUNT(*) FROM contacts WHERE account_id = $1) \
             + (SELECT COUNT(*) FROM departments WHERE account_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *connection)
        .await?;
        if used > 0 {
            return Ok(false);
        }
        for statement in ["DELETE FROM account_addresses WHERE account_id = $1", "DELETE FROM accounts WHERE id = $1"] {
            sqlx::query(statement).bind(id).execute(&mut *connection).await?;
        }
        Ok(true)
    }
}
