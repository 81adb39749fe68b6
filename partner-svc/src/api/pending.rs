//! The services of the `portal.partner.v1` contract whose behaviour is still to be
//! built. They are served so that clients see the whole contract (reflection,
//! routing, the caller assertion); each method answers UNIMPLEMENTED with the
//! message "Not yet implemented" until its issue lands.

use portal_proto::partner::{
    lead_service_server::{LeadService, LeadServiceServer},
    opportunity_service_server::{OpportunityService, OpportunityServiceServer},
    partner_lookup_service_server::{PartnerLookupService, PartnerLookupServiceServer},
    partner_program_service_server::{PartnerProgramService, PartnerProgramServiceServer},
    partner_training_service_server::{PartnerTrainingService, PartnerTrainingServiceServer},
    partnership_service_server::{PartnershipService, PartnershipServiceServer},
};
use service_kit::{ServiceContext, service_routes};
use tonic::service::Routes;

/// Stands in for every service below.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending;

impl LeadService for Pending {}
impl PartnerLookupService for Pending {}
impl OpportunityService for Pending {}
impl PartnershipService for Pending {}
impl PartnerProgramService for Pending {}
impl PartnerTrainingService for Pending {}

/// Adds the pending services to `routes`; returns the routes and the names added.
pub fn routes(context: &ServiceContext, routes: Routes) -> (Routes, Vec<String>) {
    service_routes!(context, routes;
        LeadServiceServer<Pending>(Pending) as Public,
        PartnerLookupServiceServer<Pending>(Pending) as Public,
        OpportunityServiceServer<Pending>(Pending) as Public,
        PartnershipServiceServer<Pending>(Pending) as Public,
        PartnerProgramServiceServer<Pending>(Pending) as Public,
        PartnerTrainingServiceServer<Pending>(Pending) as Public,
    )
}
