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
