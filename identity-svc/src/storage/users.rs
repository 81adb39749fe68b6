//! Users and their contacts.

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::Store;
use crate::domain::{IdentityError, user::UserKind};

/// A user as stored, with its contact's name and its licence seat.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub contact_id: String,
    pub email: String,
    pub full_name: String,
    pub kind: String,
    pub organization_id: Option<String>,
    pub organization_administrator: i16,
    /// 0 or 1: flags are SMALLINT because sqlx's `Any` driver cannot read SQLite booleans.
    pub system_administrator: i16,
    pub active: i16,
    pub password_hash: Option<String>,
    pub culture: String,
    pub home_page: String,
    pub origin: String,
    pub licence_product_id: Option<String>,
    pub deactivated_at: Option<Millis>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The roles the user is a direct member of, by id. Not part of the row: read with
    /// `Store::with_role_ids` for the users an answer shows, empty otherwise.
    #[sqlx(skip)]
    pub role_ids: Vec<String>,
}

impl UserRecord {
    pub fn kind(&self) -> UserKind {
        UserKind::from_stored(&self.kind)
    }

    pub fn is_active(&self) -> bool {
        self.active != 0
    }

    pub fn is_system_administrator(&self) -> bool {
        self.system_administrator != 0
    }

    pub fn is_organization_administrator(&self) -> bool {
        self.organization_administrator != 0
    }

    /// Employees need no licence; external users need a seat to log in.
    pub fn may_log_in(&self) -> bool {
        self.is_active() && (self.kind() == UserKind::Employee || self.licence_product_id.is_some())
    }
}

/// What a list of users filters by; `None` and empty strings do not filter.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub organization_id: String,
    pub kind: Option<UserKind>,
    pub active: Option<bool>,
    pub organization_administrator: Option<bool>,
    pub role_id: String,
    pub licence_product_id: String,
    pub email: String,
    pub text: String,
    /// Only this user (an external caller lists only themselves).
    pub only_id: String,
}

/// What ListContacts filters by; empty strings and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub account_id: String,
    pub department_id: String,
    /// Lowercased exact email.
    pub email: String,
    /// Lowercased text the full name or email must contain.
    pub text: String,
    pub has_user: Option<bool>,
    /// For external callers: the contacts they may see.
    pub visible_to: Option<ContactScope>,
}

/// The contacts an external caller may see: their own, and for an organization
/// administrator those of the organization's account and users.
#[derive(Debug, Clone, Default)]
pub struct ContactScope {
    pub own_contact_id: String,
    pub organization_id: String,
    pub account_id: String,
}

/// What inserting a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insertion {
    Created,
    EmailTaken,
    ContactTaken,
}

/// A user to create, with a new contact (when `contact_id` is `None`) or for an existing one.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub contact_id: Option<&'a str>,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub full_name: &'a str,
    pub kind: UserKind,
    pub system_administrator: bool,
    pub password_hash: Option<&'a str>,
    pub culture: &'a str,
    pub home_page: &'a str,
    pub origin: &'a str,
    pub organization_id: Option<&'a str>,
    pub organization_administrator: bool,
    /// The account a new contact is created in.
    pub account_id: Option<&'a str>,
}

const USER_SELECT: &str = "SELECT u.id, u.contact_id, u.email, c.full_name, u.kind, u.organization_id, u.organization_administrator, \
     u.system_administrator, u.active, u.password_hash, u.culture, u.home_page, u.origin, \
     la.licence_product_id, u.deactivated_at, u.version, u.created_at, u.updated_at \
     FROM users u JOIN contacts c ON c.id = u.contact_id LEFT JOIN licence_assignments la ON la.user_id = u.id";

impl Store {
    /// The user whose normalised email is `email_normalized`.
    pub async fn user_by_email(&self, email_normalized: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!("{USER_SELECT} WHERE u.email_normalized = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email_normalized).fetch_optional(&self.db.pool).await?)
    }

    /// The user with id `id`.
    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!("{USER_SELECT} WHERE u.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// True once any system administrator exists.
    /// The user as `connection` (an open transaction) sees it.
    pub async fn user_in(connection: &mut AnyConnection, id: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!("{USER_SELECT} WHERE u.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(connection).await?)
    }

    pub async fn has_system_administrator(&self) -> Result<bool, IdentityError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE system_administrator = 1 LIMIT 1")
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(found.is_some())
    }

    /// The user created earlier under the same idempotency key, if any.
    pub async fn idempotent_result(&self, scope: &str, key: &str) -> Result<Option<String>, IdentityError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT resource_id FROM idempotency_keys WHERE scope = $1 AND request_key = $2")
                .bind(scope)
                .bind(key)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Records the result of a create under its idempotency key; `false` when a parallel
    /// retry recorded one first (the caller rolls back and returns that one).
    pub async fn remember_result(
        connection: &mut AnyConnection,
        scope: &str,
        key: &str,
        resource_id: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, request_key, resource_id, created_at) VALUES ($1, $2, $3, $4)              ON CONFLICT (scope, request_key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(resource_id)
        .bind(now)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// How many active system administrators there are.
    pub async fn active_system_administrators(&self) -> Result<i64, IdentityError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE system_administrator = 1 AND active = 1")
                .fetch_one(&self.db.pool)
                .await?;
        Ok(count)
    }

    /// True when a contact with this id exists.
    pub async fn contact_exists(&self, id: &str) -> Result<bool, IdentityError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM contacts WHERE id = $1").bind(id).fetch_optional(&self.db.pool).await?;
        Ok(found.is_some())
    }

    /// Creates the user (and its contact when it has none yet) inside the caller's
    /// transaction. When another user has the email or the contact already has a user,
    /// nothing usable was written and the caller rolls back.
    pub async fn insert_user(
        connection: &mut AnyConnection,
        user: &NewUser<'_>,
        now: Millis,
    ) -> Result<Insertion, IdentityError> {
        let new_contact_id;
        let contact_id = match user.contact_id {
            Some(id) => id,
            None => {
                new_contact_id = service_kit::secrets::new_id();
                sqlx::query(
                    "INSERT INTO contacts (id, full_name, email, account_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(&new_contact_id)
                .bind(user.full_name)
                .bind(user.email)
                .bind(user.account_id)
                .bind(now)
                .execute(&mut *connection)
                .await?;
                &new_contact_id
            }
        };
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE contact_id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *connection)
            .await?;
        if taken.is_some() {
            return Ok(Insertion::ContactTaken);
        }
        let inserted = sqlx::query(
            "INSERT INTO users (id, contact_id, email, email_normalized, kind, system_administrator, active, \
             password_hash, culture, home_page, origin, organization_id, organization_administrator, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $12, $13, $11, $11) \
             ON CONFLICT (email_normalized) DO NOTHING",
        )
        .bind(user.id)
        .bind(contact_id)
        .bind(user.email)
        .bind(user.email_normalized)
        .bind(user.kind.as_str())
        .bind(i16::from(user.system_administrator))
        .bind(user.password_hash)
        .bind(user.culture)
        .bind(user.home_page)
        .bind(user.origin)
        .bind(now)
        .bind(user.organization_id)
        .bind(i16::from(user.organization_administrator))
        .execute(&mut *connection)
        .await?
        .rows_affected();
        Ok(if inserted == 1 { Insertion::Created } else { Insertion::EmailTaken })
    }

    /// The contacts whose email matches `email_normalized` (case-insensitively).
    pub async fn contacts_with_email(
        &self,
        email_normalized: &str,
    ) -> Result<Vec<(String, Option<String>)>, IdentityError> {
        Ok(sqlx::query_as("SELECT id, account_id FROM contacts WHERE lower(email) = $1 ORDER BY created_at, id")
            .bind(email_normalized)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Sets or clears a user's organization administrator flag; false when unchanged.
    pub async fn set_organization_administrator(
        connection: &mut AnyConnection,
        user_id: &str,
        administrator: bool,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE users SET organization_administrator = $1, updated_at = $2, version = version + 1 \
             WHERE id = $3 AND organization_administrator <> $1",
        )
        .bind(i16::from(administrator))
        .bind(now)
        .bind(user_id)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if changed == 1 {
            Store::bump_access_epoch(connection, user_id).await?;
        }
        Ok(changed == 1)
    }

    /// Up to `limit` users matching `filter`, by full name then id, after `after`.
    pub async fn users(
        &self,
        filter: &UserFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        let sql = format!(
            "{USER_SELECT} WHERE ($1 = '' OR u.organization_id = $1) \
             AND ($2 = '' OR c.full_name > $3 OR (c.full_name = $3 AND u.id > $2)) \
             AND ($4 = -1 OR u.active = $4) AND ($5 = -1 OR u.organization_administrator = $5) \
             AND ($6 = '' OR EXISTS (SELECT 1 FROM role_user_members m WHERE m.user_id = u.id AND m.role_id = $6)) \
             AND ($7 = '' OR lower(c.full_name) LIKE '%' || $7 || '%' OR u.email_normalized LIKE '%' || $7 || '%') \
             AND ($8 = '' OR u.kind = $8) AND ($9 = '' OR la.licence_product_id = $9) \
             AND ($10 = '' OR u.email_normalized = $10) AND ($11 = '' OR u.id = $11) \
             ORDER BY c.full_name, u.id LIMIT $12"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.organization_id)
            .bind(after_id)
            .bind(after_name)
            .bind(filter.active.map_or(-1, i16::from))
            .bind(filter.organization_administrator.map_or(-1, i16::from))
            .bind(&filter.role_id)
            .bind(filter.text.trim().to_lowercase())
            .bind(filter.kind.map(UserKind::as_str).unwrap_or_default())
            .bind(&filter.licence_product_id)
            .bind(filter.email.trim().to_lowercase())
            .bind(&filter.only_id)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Makes a contact's email the one given (its user's new username).
    pub async fn set_contact_email(
        connection: &mut AnyConnection,
        contact_id: &str,
        email: &str,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE contacts SET email = $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(email)
            .bind(now)
            .bind(contact_id)
            .execute(connection)
            .await?;
        Ok(())
    }

    /// Sets a user's culture and home page.
    pub async fn set_preferences(
        connection: &mut AnyConnection,
        user_id: &str,
        culture: &str,
        home_page: &str,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "UPDATE users SET culture = $1, home_page = $2, updated_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(culture)
        .bind(home_page)
        .bind(now)
        .bind(user_id)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// Sets or clears a user's system administrator flag.
    pub async fn set_system_administrator(
        connection: &mut AnyConnection,
        user_id: &str,
        administrator: bool,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE users SET system_administrator = $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(i16::from(administrator))
            .bind(now)
            .bind(user_id)
            .execute(&mut *connection)
            .await?;
        Store::bump_access_epoch(connection, user_id).await
    }

    /// Sets a user's active flag; returns false when it already had that value.
    pub async fn set_active(
        connection: &mut AnyConnection,
        user_id: &str,
        active: bool,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE users SET active = $1, deactivated_at = CASE WHEN $1 = 1 THEN NULL ELSE $2 END, \
             updated_at = $2, version = version + 1 WHERE id = $3 AND active <> $1",
        )
        .bind(i16::from(active))
        .bind(now)
        .bind(user_id)
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if changed == 1 {
            Store::bump_access_epoch(connection, user_id).await?;
        }
        Ok(changed == 1)
    }

    /// Replaces a user's password hash (a rehash with current parameters, or a new password).
    pub async fn set_password_hash(
        connection: &mut AnyConnection,
        user_id: &str,
        hash: &str,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(user_id)
            .execute(connection)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The caller with their organization and administrator flag as stored now.
    pub async fn actor(&self, caller: &service_kit::Caller) -> Result<crate::domain::authority::Actor, IdentityError> {
        let row: Option<(Option<String>, i16)> = if caller.is_user() {
            sqlx::query_as("SELECT organization_id, organization_administrator FROM users WHERE id = $1")
                .bind(&caller.user_id)
                .fetch_optional(&self.db.pool)
                .await?
        } else {
            None
        };
        let (organization_id, administrator) = row.unwrap_or_default();
        Ok(crate::domain::authority::Actor {
            caller: caller.clone(),
            organization_id,
            organization_administrator: administrator != 0,
            portal_user_administrator: false,
        })
    }
}

impl UserRecord {
    /// The facts the authority rules need about this user.
    pub fn as_target(&self) -> crate::domain::authority::Target<'_> {
        crate::domain::authority::Target {
            user_id: &self.id,
            organization_id: self.organization_id.as_deref(),
            external: self.kind() == UserKind::External,
        }
    }
}

/// A contact as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRecord {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub job_title: String,
    pub account_id: Option<String>,
    pub department_id: Option<String>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The contact's portal user, read with the contact (a user is created for a contact,
    /// never written through it).
    pub user_id: Option<String>,
}

/// The columns of a contact `c`, with its user's id.
const CONTACT_COLUMNS: &str = "c.id, c.full_name, c.email, c.phone, c.job_title, c.account_id, c.department_id, \
     c.version, c.created_at, c.updated_at, (SELECT u.id FROM users u WHERE u.contact_id = c.id) AS user_id";

impl Store {
    pub async fn contact(&self, id: &str) -> Result<Option<ContactRecord>, IdentityError> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    pub async fn insert_contact(connection: &mut AnyConnection, contact: &ContactRecord) -> Result<(), IdentityError> {
        sqlx::query(
            "INSERT INTO contacts (id, full_name, email, phone, job_title, account_id, department_id, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&contact.id)
        .bind(&contact.full_name)
        .bind(&contact.email)
        .bind(&contact.phone)
        .bind(&contact.job_title)
        .bind(&contact.account_id)
        .bind(&contact.department_id)
        .bind(contact.created_at)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// Up to `limit` contacts matching `filter`, by full name then id, after `after`.
    pub async fn contacts(
        &self,
        filter: &ContactFilter,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<ContactRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        let scope = filter.visible_to.clone();
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE ($1 = '' OR c.account_id = $1) \
             AND ($2 = '' OR c.department_id = $2) AND ($3 = '' OR lower(c.email) = $3) \
             AND ($4 = '' OR lower(c.full_name) LIKE '%' || $4 || '%' OR lower(c.email) LIKE '%' || $4 || '%') \
             AND ($5 = -1 OR (CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.contact_id = c.id) THEN 1 ELSE 0 END) = $5) \
             AND ($6 = 0 OR c.id = $7 OR ($8 <> '' AND (c.account_id = $8 \
                  OR c.id IN (SELECT u.contact_id FROM users u WHERE u.organization_id = $9)))) \
             AND ($10 = '' OR c.full_name > $11 OR (c.full_name = $11 AND c.id > $10)) \
             ORDER BY c.full_name, c.id LIMIT $12"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.account_id)
            .bind(&filter.department_id)
            .bind(&filter.email)
            .bind(&filter.text)
            .bind(filter.has_user.map_or(-1, i16::from))
            .bind(i16::from(scope.is_some()))
            .bind(scope.as_ref().map(|s| s.own_contact_id.clone()).unwrap_or_default())
            .bind(scope.as_ref().map(|s| s.account_id.clone()).unwrap_or_default())
            .bind(scope.as_ref().map(|s| s.organization_id.clone()).unwrap_or_default())
            .bind(after_id)
            .bind(after_name)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Rewrites a contact when its version is still `contact.version`; false otherwise.
    pub async fn update_contact(
        connection: &mut AnyConnection,
        contact: &ContactRecord,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let changed = sqlx::query(
            "UPDATE contacts SET full_name = $1, email = $2, phone = $3, job_title = $4, account_id = $5, \
             department_id = $6, updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9",
        )
        .bind(&contact.full_name)
        .bind(&contact.email)
        .bind(&contact.phone)
        .bind(&contact.job_title)
        .bind(&contact.account_id)
        .bind(&contact.department_id)
        .bind(now)
        .bind(&contact.id)
        .bind(contact.version)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// The user of a contact, if it has one.
    pub async fn user_of_contact(&self, contact_id: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!("{USER_SELECT} WHERE u.contact_id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(contact_id).fetch_optional(&self.db.pool).await?)
    }

    /// Changes a user's email (the username); false when another user has it.
    pub async fn set_email(
        connection: &mut AnyConnection,
        user_id: &str,
        email: &str,
        email_normalized: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email_normalized = $1 AND id <> $2")
            .bind(email_normalized)
            .bind(user_id)
            .fetch_optional(&mut *connection)
            .await?;
        if taken.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE users SET email = $1, email_normalized = $2, updated_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(email)
        .bind(email_normalized)
        .bind(now)
        .bind(user_id)
        .execute(connection)
        .await?;
        Ok(true)
    }

    /// Puts a user in an organization (or none) with the administrator flag given.
    pub async fn set_organization(
        connection: &mut AnyConnection,
        user_id: &str,
        organization_id: Option<&str>,
        administrator: bool,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query(
            "UPDATE users SET organization_id = $1, organization_administrator = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4",
        )
        .bind(organization_id)
        .bind(i16::from(administrator))
        .bind(now)
        .bind(user_id)
        .execute(&mut *connection)
        .await?;
        Store::bump_access_epoch(connection, user_id).await
    }

    /// Makes the user's direct memberships exactly `role_ids`; true when anything changed.
    pub async fn replace_memberships(
        connection: &mut AnyConnection,
        user_id: &str,
        role_ids: &[String],
        created_by: &str,
        now: Millis,
    ) -> Result<bool, IdentityError> {
        let current: Vec<(String,)> = sqlx::query_as("SELECT role_id FROM role_user_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *connection)
            .await?;
        let mut changed = false;
        for (role_id,) in &current {
            if !role_ids.contains(role_id) {
                sqlx::query("DELETE FROM role_user_members WHERE user_id = $1 AND role_id = $2")
                    .bind(user_id)
                    .bind(role_id)
                    .execute(&mut *connection)
                    .await?;
                Store::bump_access_epoch(&mut *connection, user_id).await?;
                changed = true;
            }
        }
        for role_id in role_ids {
            changed |= Store::add_membership(&mut *connection, role_id, user_id, created_by, now).await?;
        }
        Ok(changed)
    }

    /// Deletes a user and everything that hangs off it (seat, sessions, memberships, links);
    /// the contact stays.
    pub async fn delete_user(connection: &mut AnyConnection, user_id: &str) -> Result<(), IdentityError> {
        Store::release_seat(&mut *connection, user_id).await?;
        for statement in [
            "DELETE FROM role_user_members WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM invitations WHERE user_id = $1",
            "DELETE FROM tokens WHERE user_id = $1 AND id NOT IN (SELECT id FROM registrations)",
            "DELETE FROM users WHERE id = $1",
        ] {
            sqlx::query(statement).bind(user_id).execute(&mut *connection).await?;
        }
        Ok(())
    }
}
