//! `portal.partner.v1.PartnershipService`.

use portal_proto::partner::{self as pb, partnership_service_server::PartnershipService};
use service_kit::{Caller, clock::to_timestamp, validate};
use tonic::{Request, Response, Status};

use super::{fingerprint, mask_paths, newest_first_next, newest_first_position, page_limit, request_id, required};
use crate::{
    domain::lookup,
    partnerships::{PartnershipDraft, Partnerships},
    storage::{PartnershipFilter, PartnershipRecord},
};

#[derive(Debug, Clone)]
pub struct PartnershipApi {
    pub partnerships: Partnerships,
}

pub(crate) fn partnership_to_proto(p: PartnershipRecord) -> pb::Partnership {
    pb::Partnership {
        active: Some(p.is_active()),
        etag: lookup::etag(p.version),
        counting_since: Some(to_timestamp(p.counting_since)),
        create_time: Some(to_timestamp(p.created_at)),
        update_time: Some(to_timestamp(p.updated_at)),
        id: p.id,
        partner_account_id: p.partner_account_id,
        partner_organization_id: p.partner_organization_id,
        partner_type_id: p.partner_type_id,
        partner_level_id: p.partner_level_id.unwrap_or_default(),
        start_date: p.start_date,
        due_date: p.due_date,
        currency_code: p.currency_code,
        points: p.points,
    }
}

fn draft(p: pb::Partnership) -> PartnershipDraft {
    PartnershipDraft {
        id: p.id,
        partner_account_id: p.partner_account_id,
        partner_type_id: p.partner_type_id,
        partner_level_id: p.partner_level_id,
        start_date: p.start_date,
        due_date: p.due_date,
        active: p.active,
        currency_code: p.currency_code,
        etag: p.etag,
    }
}

#[tonic::async_trait]
impl PartnershipService for PartnershipApi {
    async fn create_partnership(
        &self,
        request: Request<pb::CreatePartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let partnership = draft(required("partnership", r.partnership)?);
        let created = self.partnerships.create(&caller, partnership, request_id(&r.request_id)?).await?;
        Ok(Response::new(partnership_to_proto(created)))
    }

    async fn get_partnership(
        &self,
        request: Request<pb::GetPartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = Caller::user_of(&request)?;
        validate::id("id", &request.get_ref().id)?;
        Ok(Response::new(partnership_to_proto(self.partnerships.get(caller, &request.get_ref().id).await?)))
    }

    async fn list_partnerships(
        &self,
        request: Request<pb::ListPartnershipsRequest>,
    ) -> Result<Response<pb::ListPartnershipsResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        let (size, limit) = page_limit(r.page_size)?;
        let filter = PartnershipFilter {
            partner_account_id: r.partner_account_id.clone(),
            partner_type_id: r.partner_type_id.clone(),
            partner_level_id: r.partner_level_id.clone(),
            only_active: r.only_active,
        };
        let filters = fingerprint(&filter);
        let before = newest_first_position(&r.page_token, &filters)?;
        let mut rows = self.partnerships.list(caller, &filter, before, limit).await?;
        let next_page_token = newest_first_next(&mut rows, size, &filters, |p| (p.created_at, &p.id));
        Ok(Response::new(pb::ListPartnershipsResponse {
            partnerships: rows.into_iter().map(partnership_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_partnership(
        &self,
        request: Request<pb::UpdatePartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let patch = draft(required("partnership", r.partnership)?);
        validate::id("partnership.id", &patch.id)?;
        let updated =
            self.partnerships.update(&caller, patch, &mask_paths(r.update_mask), &r.level_change_reason).await?;
        Ok(Response::new(partnership_to_proto(updated)))
    }

    async fn delete_partnership(&self, request: Request<pb::DeletePartnershipRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::id("id", &r.id)?;
        self.partnerships.delete(caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}
