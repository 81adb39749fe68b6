//! Notify's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

mod audit;
mod deliveries;
mod templates;

pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use deliveries::{Claimed, DeliveryFilter, DeliveryRow, NewDelivery, Outcome};
pub use templates::{NewTemplate, TemplateFilter, TemplateRow};

use service_kit::db::{Database, Migrations};

/// Notify's migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// Notify's storage.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// `$n` for the next bound value of a statement being built.
struct Placeholders(usize);

impl Placeholders {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }
}
