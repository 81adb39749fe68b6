//! The services of the `portal.case.v1` contract whose behaviour is still to be built
//! (attachments). They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the message
//! "Not yet implemented".

use portal_proto::case::attachment_service_server::{AttachmentService, AttachmentServiceServer};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl AttachmentService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        AttachmentServiceServer<Pending>(Pending) as Public,
    )
}
