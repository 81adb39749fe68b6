//! Departments of accounts.

use service_kit::clock::Millis;
use sqlx::AnyConnection;

use super::Store;
use crate::domain::IdentityError;

/// A department as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepartmentRecord {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str = "id, account_id, name, version, created_at, updated_at";

impl Store {
    pub async fn department(&self, id: &str) -> Result<Option<DepartmentRecord>, IdentityError> {
        let sql = format!("SELECT {COLUMNS} FROM departments WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.db.pool).await?)
    }

    /// Up to `limit` departments (of one account when `account_id` is set), by name then
    /// id, after `after`.
    pub async fn departments(
        &self,
        account_id: &str,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<DepartmentRecord>, IdentityError> {
        let (after_name, after_id) = after.unwrap_or_default();
        let sql = format!(
            "SELECT {COLUMNS} FROM departments WHERE ($1 = '' OR account_id = $1) \
             AND ($2 = '' OR name > $3 OR (name = $3 AND id > $2)) ORDER BY name, id LIMIT $4"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(after_id)
            .bind(after_name)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?)
    }

    /// Inserts a department; false when the account already has one of that name.
    pub async fn insert_department(
        connection: &mut AnyConnection,
        department: &DepartmentRecord,
    ) -> Result<bool, IdentityError> {
        let inserted = sqlx::query(
            "INSERT INTO departments (id, account_id, name, name_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (account_id, name_key) DO NOTHING",
        )
        .bind(&department.id)
        .bind(&department.account_id)
        .bind(&department.name)
        .bind(department.name.to_lowercase())
        .bind(department.created_at)
        .execute(connection)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Renames a department whose version is still `version`; `None` when the version
    /// moved on, `Some(false)` when the account has another department of that name.
    pub async fn rename_department(
        connection: &mut AnyConnection,
        department: &DepartmentRecord,
        name: &str,
        now: Millis,
    ) -> Result<Option<bool>, IdentityError> {
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM departments WHERE account_id = $1 AND name_key = $2 AND id <> $3")
                .bind(&department.account_id)
                .bind(name.to_lowercase())
                .bind(&department.id)
                .fetch_optional(&mut *connection)
                .await?;
        if taken.is_some() {
            return Ok(Some(false));
        }
        let changed = sqlx::query(
            "UPDATE departments SET name = $1, name_key = $2, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND version = $5",
        )
        .bind(name)
        .bind(name.to_lowercase())
        .bind(now)
        .bind(&department.id)
        .bind(department.version)
        .execute(connection)
        .await?
        .rows_affected();
        Ok((changed == 1).then_some(true))
    }

    /// Deletes a department no contact refers to; false when one does.
    pub async fn delete_department(connection: &mut AnyConnection, id: &str) -> Result<bool, IdentityError> {
        let (used,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contacts WHERE department_id = $1")
            .bind(id)
            .fetch_one(&mut *connection)
            .await?;
        if used > 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM departments WHERE id = $1").bind(id).execute(connection).await?;
        Ok(true)
    }
}
