//! What the other services look up in identity by id, in batches, and the version
//! counters access-svc keys its cache with.

use sqlx::AnyConnection;

use super::Store;
use crate::domain::IdentityError;

/// A user as other services see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSummaryRow {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub kind: String,
    pub active: i16,
    pub organization_id: Option<String>,
    pub organization_administrator: i16,
    pub system_administrator: i16,
    pub contact_id: String,
    pub account_id: Option<String>,
    pub culture: String,
}

/// A contact as other services see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactSummaryRow {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub account_id: Option<String>,
    pub department_id: Option<String>,
    pub user_id: Option<String>,
}

/// An account with the organization bound to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountSummaryRow {
    pub id: String,
    pub name: String,
    pub r#type: String,
    pub organization_id: Option<String>,
}

/// The columns of a [`UserSummaryRow`], from `users u` joined to `contacts c`.
const USER_SUMMARY_SELECT: &str = "SELECT u.id, u.email, c.full_name, u.kind, u.active, u.organization_id, \
     u.organization_administrator, u.system_administrator, u.contact_id, c.account_id, u.culture \
     FROM users u JOIN contacts c ON c.id = u.contact_id";

/// `$first, $first+1, …` for an `IN (…)` list of `count` values.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Runs `SELECT … WHERE <column> IN (ids)` and returns the rows in the order of `ids`.
async fn rows_in<T>(store: &Store, select: &str, column: &str, ids: &[String]) -> Result<Vec<T>, IdentityError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin + HasId,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{select} WHERE {column} IN ({})", placeholders(1, ids.len()));
    let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id);
    }
    let mut rows = query.fetch_all(&store.db.pool).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| id == row.id()));
    Ok(rows)
}

/// Rows identified by one id column.
pub trait HasId {
    fn id(&self) -> &str;
}

impl HasId for UserSummaryRow {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for ContactSummaryRow {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for AccountSummaryRow {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for super::RoleRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Store {
    pub async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<UserSummaryRow>, IdentityError> {
        rows_in(self, USER_SUMMARY_SELECT, "u.id", ids).await
    }

    /// Up to `limit` active direct members of the role (and, with `include_descendants`,
    /// of every role below it), by user id after `after_user_id`.
    pub async fn role_users_page(
        &self,
        role_id: &str,
        include_descendants: bool,
        after_user_id: &str,
        limit: i64,
    ) -> Result<Vec<UserSummaryRow>, IdentityError> {
        let sql = format!(
            "WITH RECURSIVE below (id) AS ( \
                 SELECT id FROM roles WHERE id = $1 \
                 UNION SELECT r.id FROM roles r JOIN below b ON r.parent_id = b.id WHERE $2 = 1) \
             {USER_SUMMARY_SELECT} WHERE u.active = 1 AND u.id > $3 AND u.id IN \
             (SELECT m.user_id FROM role_user_members m WHERE m.role_id IN (SELECT id FROM below)) \
             ORDER BY u.id LIMIT $4"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(role_id)
            .bind(i16::from(include_descendants))
            .bind(after_user_id)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?)
    }

    pub async fn contacts_by_ids(&self, ids: &[String]) -> Result<Vec<ContactSummaryRow>, IdentityError> {
        rows_in(
            self,
            "SELECT c.id, c.full_name, c.email, c.account_id, c.department_id, u.id AS user_id \
             FROM contacts c LEFT JOIN users u ON u.contact_id = c.id",
            "c.id",
            ids,
        )
        .await
    }

    pub async fn accounts_by_ids(&self, ids: &[String]) -> Result<Vec<AccountSummaryRow>, IdentityError> {
        rows_in(
            self,
            "SELECT a.id, a.name, a.type, r.id AS organization_id FROM accounts a \
             LEFT JOIN roles r ON r.account_id = a.id AND r.kind = 'organization'",
            "a.id",
            ids,
        )
        .await
    }

    pub async fn roles_by_ids(&self, ids: &[String]) -> Result<Vec<super::RoleRecord>, IdentityError> {
        rows_in(self, "SELECT * FROM roles", "id", ids).await
    }

    /// The ids of an organization's administrators, active or not.
    pub async fn organization_administrators(&self, organization_id: &str) -> Result<Vec<String>, IdentityError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE organization_id = $1 AND organization_administrator = 1 ORDER BY id",
        )
        .bind(organization_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The access epochs of the users given, in their order; 0 for unknown users.
    pub async fn access_epochs(&self, ids: &[String]) -> Result<Vec<i64>, IdentityError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT id, access_epoch FROM users WHERE id IN ({})", placeholders(1, ids.len()));
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        let found: std::collections::HashMap<String, i64> = query.fetch_all(&self.db.pool).await?.into_iter().collect();
        Ok(ids.iter().map(|id| found.get(id).copied().unwrap_or(0)).collect())
    }

    pub async fn role_tree_epoch(&self) -> Result<i64, IdentityError> {
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM directory_epochs WHERE name = 'role_tree'")
            .fetch_one(&self.db.pool)
            .await?;
        Ok(value)
    }

    /// Marks that what access evaluates about `user_id` changed (inside the change's
    /// transaction, so the counter and the change commit together).
    pub async fn bump_access_epoch(connection: &mut AnyConnection, user_id: &str) -> Result<(), IdentityError> {
        sqlx::query("UPDATE users SET access_epoch = access_epoch + 1 WHERE id = $1")
            .bind(user_id)
            .execute(connection)
            .await?;
        Ok(())
    }

    /// Marks that the role tree changed (a role moved or disappeared).
    pub async fn bump_role_tree_epoch(connection: &mut AnyConnection) -> Result<(), IdentityError> {
        sqlx::query("UPDATE directory_epochs SET value = value + 1 WHERE name = 'role_tree'")
            .execute(connection)
            .await?;
        Ok(())
    }
}
