//! partner-svc: partner lookups, partnerships (programs), leads, opportunities,
//! points and tiers.
//!
//! `api` adapts gRPC to the use cases (`lookups`, `partnerships`, `program`,
//! `activity`), which apply the rules in `domain` to the rows in `storage`; `authority`
//! decides who the caller is to the partner program.

pub mod api;
pub mod domain;
pub mod storage;

use service_kit::{ServiceContext, ServiceModule, StartError, db::Database};

pub use storage::MIGRATIONS;

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "partner";

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let (routes, services) = api::pending::routes(&context, tonic::service::Routes::default());
    Ok(ServiceModule { area: AREA, routes, services, database })
}
