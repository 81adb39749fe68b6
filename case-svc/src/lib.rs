//! case-svc: service catalog, calendars, service agreements, cases and their
//! SLA clocks, messages, feedback and the knowledge base.
//!
//! The whole `portal.case.v1` contract is served. Use cases live in the top-level modules (`cases`,
//! `messages`, `agreements`, …), rules in `domain`, rows in `storage`; `sla_events` and
//! `mail` run in the background.

pub mod agreements;
pub mod api;
pub mod attachments;
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
    exclusive::Exclusive,
    registrations::Registrations,
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "case";

/// Migrations: portable SQL for both backends.
pub static MIGRATIONS: Migrations = Migrations(&sqlx::migrate!("./migrations"));

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let case_services = case_services(&context, &database);
    let (routes, mut services) =
        api::knowledge::routes(&context, &database, &case_services, tonic::service::Routes::default()).await?;
    let (routes, case_service_names) = api::routes(&context, case_services.clone(), routes);
    services.extend(case_service_names);
    let exclusive = Exclusive::new(database.clone(), sla_events::WORKER_LOCK_KEY);
    context.shutdown.spawn(case_services.events.run(context.clock.clone(), context.shutdown.clone(), exclusive));
    let relay = mail::Relay {
        store: case_services.cases.store.clone(),
        directory: case_services.cases.directory.clone(),
        upstreams: context.upstreams.clone(),
        key: context.assertion_key.clone(),
    };
    context.shutdown.spawn(relay.run(context.shutdown.clone()));
    context.shutdown.spawn(case_services.cases.access.registrations.clone().run(context.shutdown.clone()));
    Ok(ServiceModule { area: AREA, routes, services, database })
}

/// Builds the use cases of the case half of the service.
fn case_services(context: &ServiceContext, database: &Database) -> api::CaseServices {
    let store = storage::Store::new(database.clone());
    let clock = context.clock.clone();
    let directory = directory::Directory::new(context.upstreams.clone(), context.assertion_key.clone());
    let settings = settings::Settings {
        store: store.clone(),
        clock: clock.clone(),
        access: service_kit::access::AccessClient::new(context, AREA),
    };
    let agreements =
        agreements::Agreements { store: store.clone(), clock: clock.clone(), directory: directory.clone() };
    let folders = folders::Folders::new(
        storage::folders::FolderStore::new(database.clone()),
        clock.clone(),
        service_kit::access::AccessClient::new(context, AREA),
    );
    let cases = cases::Cases {
        store: store.clone(),
        clock: clock.clone(),
        directory,
        agreements: agreements.clone(),
        settings: settings.clone(),
        access: case_access::CaseAccess::new(
            service_kit::access::AccessClient::new(context, AREA),
            database.clone(),
            Registrations::new(service_kit::access::AccessClient::new(context, AREA), database.clone(), clock.clone()),
        ),
        public_base_url: context.config.public_base_url.trim_end_matches('/').to_owned(),
    };
    api::CaseServices {
        catalog: catalog::Catalog { store: store.clone(), clock: clock.clone() },
        calendars: calendars::Calendars { store, clock },
        agreements,
        settings,
        messages: messages::Messages {
            cases: cases.clone(),
            files: storage::attachments::AttachmentStore::new(database.clone()),
        },
        events: sla_events::SlaEvents { cases: cases.clone() },
        folders,
        cases,
    }
}
