//! Users and their contacts.

use service_kit::clock::Millis;

use super::Store;
use crate::domain::{IdentityError, user::UserKind};

/// A user as stored, with its contact's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub contact_id: String,
    pub email: String,
    pub full_name: String,
    pub kind: String,
    pub organization_id: Option<String>,
    /// 0 or 1: flags are SMALLINT because sqlx's `Any` driver cannot read SQLite booleans.
    pub system_administrator: i16,
    pub active: i16,
    pub password_hash: Option<String>,
    pub culture: String,
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
}

/// A user to create together with a new contact.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub full_name: &'a str,
    pub kind: UserKind,
    pub system_administrator: bool,
    pub password_hash: Option<&'a str>,
}

const USER_COLUMNS: &str = "u.id, u.contact_id, u.email, c.full_name, u.kind, u.organization_id, \
     u.system_administrator, u.active, u.password_hash, u.culture";

impl Store {
    /// The user whose normalised email is `email_normalized`.
    pub async fn user_by_email(&self, email_normalized: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN contacts c ON c.id = u.contact_id WHERE u.email_normalized = $1"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email_normalized).fetch_optional(&self.db.pool).await?)
    }

    /// The user with id `id`.
    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, IdentityError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u JOIN contacts c ON c.id = u.contact_id WHERE u.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// True once any system administrator exists.
    pub async fn has_system_administrator(&self) -> Result<bool, IdentityError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE system_administrator = 1 LIMIT 1")
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Creates a contact and its user in one transaction. Returns the new user's id, or
    /// `None` when a user with the same email exists (nothing is written then).
    pub async fn create_user(&self, user: NewUser<'_>, now: Millis) -> Result<Option<String>, IdentityError> {
        let mut tx = self.db.pool.begin().await?;
        let contact_id = service_kit::secrets::new_id();
        let user_id = service_kit::secrets::new_id();
        sqlx::query("INSERT INTO contacts (id, full_name, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(&contact_id)
            .bind(user.full_name)
            .bind(user.email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, contact_id, email, email_normalized, kind, system_administrator, active, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (email_normalized) DO NOTHING",
        )
        .bind(&user_id)
        .bind(&contact_id)
        .bind(user.email)
        .bind(user.email_normalized)
        .bind(user.kind.as_str())
        .bind(i16::from(user.system_administrator))
        .bind(1i16)
        .bind(user.password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(user_id))
    }

    /// Replaces a user's password hash (a rehash with current parameters, or a new password).
    pub async fn set_password_hash(
        connection: &mut sqlx::AnyConnection,
        user_id: &str,
        hash: &str,
        now: Millis,
    ) -> Result<(), IdentityError> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(user_id)
            .execute(connection)
            .await?;
        Ok(())
    }
}
