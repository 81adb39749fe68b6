//! partner-svc: partner lookups, partnerships (programs), leads, opportunities,
//! points and tiers.
//!
//! `api` adapts gRPC to the use cases (`lookups`, `partnerships`, `program`,
//! `activity`), which apply the rules in `domain` to the rows in `storage`;
//! `authority` decides who the caller is to the partner program.

pub mod activity;
pub mod api;
pub mod authority;
pub mod domain;
pub mod lookups;
pub mod partnerships;
pub mod program;
pub mod storage;
pub mod trainings;

use portal_proto::partner::{
    lead_service_server::LeadServiceServer, opportunity_service_server::OpportunityServiceServer,
    partner_lookup_service_server::PartnerLookupServiceServer,
    partner_program_service_server::PartnerProgramServiceServer,
    partner_training_service_server::PartnerTrainingServiceServer,
    partnership_service_server::PartnershipServiceServer,
};
use service_kit::{ServiceContext, ServiceModule, StartError, db::Database, service_routes};

pub use storage::MIGRATIONS;

use crate::{
    activity::Activity,
    api::{LeadApi, LookupApi, OpportunityApi, PartnershipApi, ProgramApi, TrainingApi},
    authority::Authority,
    lookups::Lookups,
    partnerships::Partnerships,
    program::Program,
    storage::Store,
    trainings::Trainings,
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "partner";

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let store = Store::new(database.clone());
    let clock = context.clock.clone();
    let authority = Authority::new(&context, database.clone());
    context.shutdown.spawn(authority.registrations().run(context.shutdown.clone()));
    let program = Program::new(store.clone(), authority.clone(), clock.clone());
    let activity = Activity::new(store.clone(), authority.clone(), program.clone(), clock.clone());
    let partnerships = Partnerships::new(store.clone(), authority.clone(), program.clone(), clock.clone());
    let trainings = Trainings::new(store.clone(), authority.clone(), program.clone(), clock.clone());
    let lookups = Lookups::new(store, authority, clock);
    let (routes, services) = service_routes!(context;
        PartnerLookupServiceServer<LookupApi>(LookupApi { lookups }) as Public,
        PartnershipServiceServer<PartnershipApi>(PartnershipApi { partnerships }) as Public,
        PartnerProgramServiceServer<ProgramApi>(ProgramApi { program }) as Public,
        LeadServiceServer<LeadApi>(LeadApi { activity: activity.clone() }) as Public,
        OpportunityServiceServer<OpportunityApi>(OpportunityApi { activity }) as Public,
        PartnerTrainingServiceServer<TrainingApi>(TrainingApi { trainings }) as Public,
    );
    Ok(ServiceModule { area: AREA, routes, services, database })
}
