//! `portal.identity.v1.LicenceService`: the products and their seats.

use portal_proto::identity::{self as pb, licence_service_server::LicenceService};
use service_kit::{ApiError, Caller, clock::to_timestamp, paging, validate};
use tonic::{Request, Response, Status};

use crate::{
    licensing::Licensing,
    storage::{AssignmentFilter, AssignmentRecord, ProductRecord},
};

#[derive(Debug, Clone)]
pub struct LicenceApi {
    pub licensing: Licensing,
}

fn product_to_proto(product: ProductRecord) -> pb::LicenceProduct {
    let edition = match product.edition.as_str() {
        "self_service" => pb::PortalEdition::SelfService,
        "customer" => pb::PortalEdition::Customer,
        "partner" => pb::PortalEdition::Partner,
        _ => pb::PortalEdition::Unspecified,
    };
    let deployment = match product.deployment.as_str() {
        "cloud" => pb::Deployment::Cloud,
        "on_site" => pb::Deployment::OnSite,
        _ => pb::Deployment::Unspecified,
    };
    pb::LicenceProduct {
        id: product.id,
        display_name: product.display_name,
        edition: edition.into(),
        deployment: deployment.into(),
        total_seats: product.total_seats.try_into().unwrap_or(i32::MAX),
        used_seats: product.used_seats.try_into().unwrap_or(i32::MAX),
    }
}

fn assignment_to_proto(assignment: AssignmentRecord) -> pb::LicenceAssignment {
    pb::LicenceAssignment {
        id: assignment.id,
        user_id: assignment.user_id,
        licence_product_id: assignment.licence_product_id,
        assign_time: Some(to_timestamp(assignment.assigned_at)),
        assigned_by_user_id: assignment.assigned_by,
    }
}

#[tonic::async_trait]
impl LicenceService for LicenceApi {
    async fn get_licence_product(
        &self,
        request: Request<pb::GetLicenceProductRequest>,
    ) -> Result<Response<pb::LicenceProduct>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(product_to_proto(self.licensing.product(&caller, &id).await?)))
    }

    async fn list_licence_products(
        &self,
        request: Request<pb::ListLicenceProductsRequest>,
    ) -> Result<Response<pb::ListLicenceProductsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        paging::page_size(r.page_size)?;
        if !r.page_token.is_empty() {
            return Err(ApiError::invalid("page_token", "the products fit on one page; send no token").into());
        }
        let products = self
            .licensing
            .products(&caller)
            .await?
            .into_iter()
            .map(product_to_proto)
            .filter(|p| r.edition == 0 || p.edition == r.edition)
            .filter(|p| r.deployment == 0 || p.deployment == r.deployment)
            .collect();
        Ok(Response::new(pb::ListLicenceProductsResponse {
            licence_products: products,
            next_page_token: String::new(),
        }))
    }

    async fn assign_licence(
        &self,
        request: Request<pb::AssignLicenceRequest>,
    ) -> Result<Response<pb::AssignLicenceResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        validate::id("user_id", &r.user_id)?;
        validate::id("licence_product_id", &r.licence_product_id)?;
        let assigned = self.licensing.assign(&caller, &r.user_id, &r.licence_product_id).await?;
        Ok(Response::new(pb::AssignLicenceResponse {
            licence_assignment: Some(assignment_to_proto(assigned.assignment)),
        }))
    }

    async fn release_licence(
        &self,
        request: Request<pb::ReleaseLicenceRequest>,
    ) -> Result<Response<pb::ReleaseLicenceResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let user_id = request.into_inner().user_id;
        validate::id("user_id", &user_id)?;
        let released = self.licensing.release(&caller, &user_id).await?;
        Ok(Response::new(pb::ReleaseLicenceResponse { released: released.map(assignment_to_proto) }))
    }

    async fn list_licence_assignments(
        &self,
        request: Request<pb::ListLicenceAssignmentsRequest>,
    ) -> Result<Response<pb::ListLicenceAssignmentsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let filter = AssignmentFilter {
            licence_product_id: r.licence_product_id,
            user_id: r.user_id,
            organization_id: r.organization_id,
            before: paging::position(&r.page_token)?,
        };
        let mut rows = self.licensing.assignments(&caller, &filter, page_size + 1).await?;
        let next_page_token = paging::next_page(&mut rows, page_size, |a| (a.assigned_at, &a.id));
        Ok(Response::new(pb::ListLicenceAssignmentsResponse {
            licence_assignments: rows.into_iter().map(assignment_to_proto).collect(),
            next_page_token,
        }))
    }
}
