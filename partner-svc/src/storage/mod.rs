//! partner-svc's tables, through sqlx's `Any` driver (PostgreSQL or SQLite).

mod activity;
mod lookups;
mod partnerships;
mod requests;
mod trainings;

pub use activity::{LeadFilter, LeadRecord, OpportunityFilter, OpportunityRecord, Scope};
pub use lookups::{
    LevelParameterRecord, LookupRow, LookupTable, ParameterCategoryRecord, ParameterTypeRecord, PartnerLevelRecord,
    PartnerTypeRecord, Value,
};
pub use partnerships::{PartnershipFilter, PartnershipRecord, PromotionRecord};
pub use trainings::{TrainingFilter, TrainingRecord};

use service_kit::db::{Backend, Database, Migrations};

use crate::domain::PartnerError;

/// partner-svc's migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// partner-svc's storage.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

/// A transaction of several writes that land together or not at all.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so concurrent writers wait for each other (busy timeout) instead of
    /// failing with "database is locked" when a read would have to become a write.
    pub async fn begin(&self) -> Result<Tx, PartnerError> {
        Ok(match self.db.backend {
            Backend::Sqlite => self.db.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.pool.begin().await?,
        })
    }
}

/// True when a write failed on a unique constraint.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// A keyset condition on (sort column, id) after `after`, with placeholders from `next`.
fn after_clause(sort: &str, after: &Option<(String, String)>, next: usize) -> String {
    match after {
        Some(_) => format!(" AND ({sort} > ${next} OR ({sort} = ${next} AND id > ${}))", next + 1),
        None => String::new(),
    }
}
