//! The services of the `portal.identity.v1` contract whose behaviour is still to be
//! built. They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the
//! message "Not yet implemented" until its issue lands.

use portal_proto::identity::{
    contact_service_server::{ContactService, ContactServiceServer},
    provisioning_service_server::{ProvisioningService, ProvisioningServiceServer},
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl ContactService for Pending {}
impl ProvisioningService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        ContactServiceServer<Pending>(Pending) as Public,
        ProvisioningServiceServer<Pending>(Pending) as Public,
    )
}
