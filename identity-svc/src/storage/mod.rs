//! Identity's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

mod addresses;
mod audit;
mod departments;
mod directory;
mod licences;
mod login_failures;
mod mail_outbox;
mod organizations;
mod roles;
mod sessions;
mod settings;
mod tokens;
mod users;

pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use departments::DepartmentRecord;
pub use directory::{AccountSummaryRow, ContactSummaryRow, UserSummaryRow};
pub use licences::{AssignmentFilter, AssignmentRecord, ProductRecord};
pub use mail_outbox::{OutboxRow, OutgoingEmail};
pub use organizations::{AccountFilter, OrganizationFilter, OrganizationRow};
pub use roles::{AccountRecord, MembershipRecord, NewRole, RoleFilter, RoleRecord};
pub use sessions::{LiveSession, NewSession};
pub use settings::StoredSettings;
pub use tokens::{InvitationFilter, InvitationRecord, NewInvitation, NewToken, RegistrationRecord, TokenRecord};
pub use users::{ContactFilter, ContactRecord, ContactScope, Insertion, NewUser, UserFilter, UserRecord};

use service_kit::db::{Database, Migrations};

use crate::domain::IdentityError;

/// Identity's migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// Identity's storage.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Starts a transaction, for changes that write several rows (and their audit event).
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, IdentityError> {
        Ok(self.db.begin().await?)
    }
}
