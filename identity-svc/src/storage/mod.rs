//! Identity's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

mod sessions;
mod users;

pub use sessions::{LiveSession, NewSession};
pub use users::{NewUser, UserRecord};

use service_kit::db::{Database, Migrations};

/// Identity's migrations, one folder per backend.
pub static MIGRATIONS: Migrations = Migrations {
    postgres: &sqlx::migrate!("migrations/postgres"),
    sqlite: &sqlx::migrate!("migrations/sqlite"),
};

/// Identity's storage.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}
