//! The gRPC adapter of case-svc: proto in, validate, convert, call the use case, map
//! errors. `routes` serves the case half of the contract.

pub mod agreements;
pub mod attachments;
pub mod calendars;
pub mod cases;
pub mod catalog;
pub mod convert;
pub mod folders;
pub mod internal;
pub mod knowledge;
pub mod messages;
pub mod settings;

use portal_proto::case::{
    calendar_service_server::CalendarServiceServer, case_internal_service_server::CaseInternalServiceServer,
    case_message_service_server::CaseMessageServiceServer, case_service_server::CaseServiceServer,
    case_settings_service_server::CaseSettingsServiceServer,
    service_agreement_service_server::ServiceAgreementServiceServer,
    service_catalog_service_server::ServiceCatalogServiceServer,
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

use crate::{
    agreements::Agreements, calendars::Calendars, cases::Cases, catalog::Catalog, folders::Folders, messages::Messages,
    settings::Settings, sla_events::SlaEvents,
};

/// The use cases the case half of the contract is served by.
#[derive(Debug, Clone)]
pub struct CaseServices {
    pub catalog: Catalog,
    pub calendars: Calendars,
    pub agreements: Agreements,
    pub settings: Settings,
    pub cases: Cases,
    pub messages: Messages,
    pub events: SlaEvents,
    /// Shared with the knowledge base's FolderService.
    pub folders: Folders,
}

/// Adds the catalog, calendar, agreement, settings, case, message and internal services.
pub fn routes(context: &ServiceContext, services: CaseServices, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        ServiceCatalogServiceServer<catalog::CatalogApi>(catalog::CatalogApi { catalog: services.catalog }) as Public,
        CalendarServiceServer<calendars::CalendarApi>(calendars::CalendarApi { calendars: services.calendars }) as Public,
        ServiceAgreementServiceServer<agreements::AgreementApi>(agreements::AgreementApi { agreements: services.agreements }) as Public,
        CaseSettingsServiceServer<settings::SettingsApi>(settings::SettingsApi { settings: services.settings }) as Public,
        CaseServiceServer<cases::CaseApi>(cases::CaseApi { cases: services.cases, folders: services.folders }) as Public,
        CaseMessageServiceServer<messages::MessageApi>(messages::MessageApi { messages: services.messages }) as Public,
        CaseInternalServiceServer<internal::InternalApi>(internal::InternalApi { events: services.events }) as Internal,
    )
}
