//! The services of the `portal.notify.v1` contract whose behaviour is still to be
//! built. They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the
//! message "Not yet implemented" until its issue lands.

use portal_proto::notify::{
    delivery_service_server::{DeliveryService, DeliveryServiceServer},
    notify_internal_service_server::{NotifyInternalService, NotifyInternalServiceServer},
    template_service_server::{TemplateService, TemplateServiceServer},
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl DeliveryService for Pending {}
impl NotifyInternalService for Pending {}
impl TemplateService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        DeliveryServiceServer<Pending>(Pending) as Public,
        NotifyInternalServiceServer<Pending>(Pending) as Internal,
        TemplateServiceServer<Pending>(Pending) as Public,
    )
}
