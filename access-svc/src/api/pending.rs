//! The services of the `portal.access.v1` contract whose behaviour is still to be
//! built. They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the
//! message "Not yet implemented" until its issue lands.

use portal_proto::access::{
    column_grant_service_server::{ColumnGrantService, ColumnGrantServiceServer},
    default_record_rule_service_server::{DefaultRecordRuleService, DefaultRecordRuleServiceServer},
    object_operation_grant_service_server::{ObjectOperationGrantService, ObjectOperationGrantServiceServer},
    portal_object_service_server::{PortalObjectService, PortalObjectServiceServer},
    portal_section_service_server::{PortalSectionService, PortalSectionServiceServer},
    record_grant_service_server::{RecordGrantService, RecordGrantServiceServer},
    role_priority_service_server::{RolePriorityService, RolePriorityServiceServer},
    system_operation_service_server::{SystemOperationService, SystemOperationServiceServer},
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl ColumnGrantService for Pending {}
impl DefaultRecordRuleService for Pending {}
impl PortalObjectService for Pending {}
impl ObjectOperationGrantService for Pending {}
impl RecordGrantService for Pending {}
impl RolePriorityService for Pending {}
impl PortalSectionService for Pending {}
impl SystemOperationService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        ColumnGrantServiceServer<Pending>(Pending) as Public,
        DefaultRecordRuleServiceServer<Pending>(Pending) as Public,
        PortalObjectServiceServer<Pending>(Pending) as Public,
        ObjectOperationGrantServiceServer<Pending>(Pending) as Public,
        RecordGrantServiceServer<Pending>(Pending) as Public,
        RolePriorityServiceServer<Pending>(Pending) as Public,
        PortalSectionServiceServer<Pending>(Pending) as Public,
        SystemOperationServiceServer<Pending>(Pending) as Public,
    )
}
