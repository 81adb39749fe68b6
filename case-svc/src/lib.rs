//! case-svc: service catalog, calendars, service agreements, cases and their
//! SLA clocks, messages, feedback and the knowledge base.
//!
//! The whole `portal.case.v1` contract is served; its behaviour arrives with
//! the case issue, and until then its methods answer UNIMPLEMENTED (`api::pending`).

pub mod agreements;
pub mod api;
pub mod calendars;
pub mod case_access;
pub mod cases;
pub mod catalog;
pub mod directory;
pub mod domain;
pub mod folders;
pub mod knowledge;
pub mod mail;
pub mod messages;
pub mod settings;
pub mod sla_events;
pub mod storage;

use service_kit::{
    ServiceContext, ServiceModule, StartError,
    db::{Database, Migrations},
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "case";

/// Migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let (routes, mut services) = api::pending::routes(&context, tonic::service::Routes::default());
    let (routes, knowledge_services) = api::knowledge::routes(&context, &database, routes).await?;
    services.extend(knowledge_services);
    Ok(ServiceModule { area: AREA, routes, services, database })
}
