//! access-svc: portal objects, sections, operation/record/column permissions,
//! system operations, evaluation and its cache.
//!
//! The whole `portal.access.v1` contract is served; its behaviour arrives with
//! the access issue, and until then its methods answer UNIMPLEMENTED (`api::pending`).

pub mod api;
pub mod domain;
pub mod storage;

use service_kit::{ServiceContext, ServiceModule, StartError, db::Database};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "access";

pub use storage::MIGRATIONS;

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let (routes, services) = api::pending::routes(&context, tonic::service::Routes::default());
    Ok(ServiceModule { area: AREA, routes, services, database })
}
