//! The services of the `portal.case.v1` contract whose behaviour is still to be
//! built. They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the
//! message "Not yet implemented" until its issue lands.

use portal_proto::case::{
    attachment_service_server::{AttachmentService, AttachmentServiceServer},
    calendar_service_server::{CalendarService, CalendarServiceServer},
    case_internal_service_server::{CaseInternalService, CaseInternalServiceServer},
    case_message_service_server::{CaseMessageService, CaseMessageServiceServer},
    case_service_server::{CaseService, CaseServiceServer},
    case_settings_service_server::{CaseSettingsService, CaseSettingsServiceServer},
    service_agreement_service_server::{ServiceAgreementService, ServiceAgreementServiceServer},
    service_catalog_service_server::{ServiceCatalogService, ServiceCatalogServiceServer},
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl ServiceAgreementService for Pending {}
impl AttachmentService for Pending {}
impl CalendarService for Pending {}
impl CaseService for Pending {}
impl ServiceCatalogService for Pending {}
impl CaseInternalService for Pending {}
impl CaseMessageService for Pending {}
impl CaseSettingsService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        ServiceAgreementServiceServer<Pending>(Pending) as Public,
        AttachmentServiceServer<Pending>(Pending) as Public,
        CalendarServiceServer<Pending>(Pending) as Public,
        CaseServiceServer<Pending>(Pending) as Public,
        ServiceCatalogServiceServer<Pending>(Pending) as Public,
        CaseInternalServiceServer<Pending>(Pending) as Internal,
        CaseMessageServiceServer<Pending>(Pending) as Public,
        CaseSettingsServiceServer<Pending>(Pending) as Public,
    )
}
