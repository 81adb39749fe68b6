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

use service_kit::db::{Database, Migrations};

use crate::domain::PartnerError;

/// partner-svc's migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// partner-svc's storage.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

pub use service_kit::db::Tx;

impl Store {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Starts a write transaction on the database's writer.
    pub async fn begin(&self) -> Result<Tx, PartnerError> {
        Ok(self.db.begin().await?)
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
