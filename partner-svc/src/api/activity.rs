//! `portal.partner.v1.LeadService` and `OpportunityService`.

use portal_proto::partner::{
    self as pb, lead_service_server::LeadService, opportunity_service_server::OpportunityService,
};
use service_kit::{Caller, clock::to_timestamp, validate};
use tonic::{Request, Response, Status};

use super::{
    fingerprint, mask_paths, newest_first_next, newest_first_position, page_limit, request_id, required, time_range,
};
use crate::{
    activity::{Activity, MoneyDraft},
    authority::Actor,
    domain::{
        PartnerError,
        decimal::Decimal,
        leads::{DuplicateMatch, LeadStatus},
        lookup,
        opportunities::CloseState,
    },
    storage::{LeadFilter, LeadRecord, OpportunityFilter, OpportunityRecord},
};

#[derive(Debug, Clone)]
pub struct LeadApi {
    pub activity: Activity,
}

#[derive(Debug, Clone)]
pub struct OpportunityApi {
    pub activity: Activity,
}

fn status_to_stored(status: pb::LeadStatus) -> String {
    let status = match status {
        pb::LeadStatus::Unspecified => return String::new(),
        pb::LeadStatus::New => LeadStatus::New,
        pb::LeadStatus::InProgress => LeadStatus::InProgress,
        pb::LeadStatus::Qualified => LeadStatus::Qualified,
        pb::LeadStatus::Converted => LeadStatus::Converted,
        pb::LeadStatus::Disqualified => LeadStatus::Disqualified,
    };
    status.stored().to_owned()
}

fn status_from_stored(stored: &str) -> pb::LeadStatus {
    match LeadStatus::from_stored(stored) {
        Ok(LeadStatus::New) => pb::LeadStatus::New,
        Ok(LeadStatus::InProgress) => pb::LeadStatus::InProgress,
        Ok(LeadStatus::Qualified) => pb::LeadStatus::Qualified,
        Ok(LeadStatus::Converted) => pb::LeadStatus::Converted,
        Ok(LeadStatus::Disqualified) => pb::LeadStatus::Disqualified,
        Err(_) => pb::LeadStatus::Unspecified,
    }
}

fn match_to_proto(stored: &str) -> pb::LeadDuplicateMatch {
    match DuplicateMatch::from_stored(stored) {
        Some(DuplicateMatch::CompanyName) => pb::LeadDuplicateMatch::CompanyName,
        Some(DuplicateMatch::EmailDomain) => pb::LeadDuplicateMatch::EmailDomain,
        Some(DuplicateMatch::CompanyNameAndEmailDomain) => pb::LeadDuplicateMatch::CompanyNameAndEmailDomain,
        None => pb::LeadDuplicateMatch::Unspecified,
    }
}

fn lead_from_proto(l: pb::Lead) -> (LeadRecord, String) {
    let record = LeadRecord {
        status: status_to_stored(l.status()),
        id: l.id,
        partner_account_id: l.partner_account_id,
        company_name: l.company_name,
        contact_name: l.contact_name,
        email: l.email.trim().to_owned(),
        phone: l.phone,
        need_description: l.need_description,
        disqualification_reason: l.disqualification_reason,
        ..Default::default()
    };
    (record, l.etag)
}

fn lead_to_proto(l: LeadRecord, duplicate_lead_ids: Vec<String>) -> pb::Lead {
    pb::Lead {
        status: status_from_stored(&l.status).into(),
        duplicate: !l.duplicate_match.is_empty(),
        duplicate_match: match_to_proto(&l.duplicate_match).into(),
        duplicate_lead_ids,
        create_time: Some(to_timestamp(l.created_at)),
        update_time: Some(to_timestamp(l.updated_at)),
        etag: lookup::etag(l.version),
        id: l.id,
        partner_account_id: l.partner_account_id,
        registered_by_user_id: l.registered_by_user_id,
        company_name: l.company_name,
        contact_name: l.contact_name,
        email: l.email,
        phone: l.phone,
        need_description: l.need_description,
        disqualification_reason: l.disqualification_reason,
    }
}

impl LeadApi {
    /// A lead as the actor may see it: duplicate ids for staff only.
    async fn shown(&self, actor: &Actor, lead: LeadRecord) -> Result<pb::Lead, PartnerError> {
        let ids = self.activity.duplicate_ids(actor, &lead).await?;
        Ok(lead_to_proto(lead, ids))
    }
}

#[tonic::async_trait]
impl LeadService for LeadApi {
    async fn create_lead(&self, request: Request<pb::CreateLeadRequest>) -> Result<Response<pb::Lead>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (lead, _) = lead_from_proto(required("lead", r.lead)?);
        let (actor, created) = self.activity.create_lead(&caller, lead, request_id(&r.request_id)?).await?;
        Ok(Response::new(self.shown(&actor, created).await?))
    }

    async fn get_lead(&self, request: Request<pb::GetLeadRequest>) -> Result<Response<pb::Lead>, Status> {
        let caller = Caller::user_of(&request)?;
        validate::id("id", &request.get_ref().id)?;
        let (actor, lead) = self.activity.get_lead(caller, &request.get_ref().id).await?;
        Ok(Response::new(self.shown(&actor, lead).await?))
    }

    async fn list_leads(
        &self,
        request: Request<pb::ListLeadsRequest>,
    ) -> Result<Response<pb::ListLeadsResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        let (size, limit) = page_limit(r.page_size)?;
        let filter = LeadFilter {
            partner_account_id: r.partner_account_id.clone(),
            statuses: r.statuses().map(status_to_stored).filter(|s| !s.is_empty()).collect(),
            registered_by_user_id: r.registered_by_user_id.clone(),
            created: time_range("create_time", r.create_time)?,
            company_name_contains: r.company_name_contains.clone(),
            only_duplicates: r.only_duplicates,
        };
        let filters = fingerprint(&filter);
        let before = newest_first_position(&r.page_token, &filters)?;
        let (actor, mut rows) = self.activity.list_leads(caller, &filter, before, limit).await?;
        let next_page_token = newest_first_next(&mut rows, size, &filters, |l| (l.created_at, &l.id));
        let mut leads = Vec::with_capacity(rows.len());
        for lead in rows {
            leads.push(self.shown(&actor, lead).await?);
        }
        Ok(Response::new(pb::ListLeadsResponse { leads, next_page_token }))
    }

    async fn update_lead(&self, request: Request<pb::UpdateLeadRequest>) -> Result<Response<pb::Lead>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (patch, etag) = lead_from_proto(required("lead", r.lead)?);
        validate::id("lead.id", &patch.id)?;
        let (actor, updated) = self.activity.update_lead(&caller, patch, &etag, &mask_paths(r.update_mask)).await?;
        Ok(Response::new(self.shown(&actor, updated).await?))
    }

    async fn delete_lead(&self, request: Request<pb::DeleteLeadRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::id("id", &r.id)?;
        self.activity.delete_lead(caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}

fn stage_to_stored(stage: pb::OpportunityStage) -> String {
    match stage {
        pb::OpportunityStage::Unspecified => "",
        pb::OpportunityStage::Qualification => "qualification",
        pb::OpportunityStage::Presentation => "presentation",
        pb::OpportunityStage::Proposal => "proposal",
        pb::OpportunityStage::Negotiation => "negotiation",
        pb::OpportunityStage::Contracting => "contracting",
    }
    .to_owned()
}

fn stage_from_stored(stored: &str) -> pb::OpportunityStage {
    match stored {
        "qualification" => pb::OpportunityStage::Qualification,
        "presentation" => pb::OpportunityStage::Presentation,
        "proposal" => pb::OpportunityStage::Proposal,
        "negotiation" => pb::OpportunityStage::Negotiation,
        "contracting" => pb::OpportunityStage::Contracting,
        _ => pb::OpportunityStage::Unspecified,
    }
}

fn close_to_stored(state: pb::OpportunityCloseState) -> String {
    match state {
        pb::OpportunityCloseState::Unspecified => String::new(),
        pb::OpportunityCloseState::Open => CloseState::Open.stored().into(),
        pb::OpportunityCloseState::Won => CloseState::Won.stored().into(),
        pb::OpportunityCloseState::Lost => CloseState::Lost.stored().into(),
    }
}

fn close_from_stored(stored: &str) -> pb::OpportunityCloseState {
    match CloseState::from_stored(stored) {
        Ok(CloseState::Open) => pb::OpportunityCloseState::Open,
        Ok(CloseState::Won) => pb::OpportunityCloseState::Won,
        Ok(CloseState::Lost) => pb::OpportunityCloseState::Lost,
        Err(_) => pb::OpportunityCloseState::Unspecified,
    }
}

fn opportunity_from_proto(o: pb::Opportunity) -> (OpportunityRecord, Option<MoneyDraft>, String) {
    let (stage, close_state) = (stage_to_stored(o.stage()), close_to_stored(o.close_state()));
    let money = o.amount.map(|m| MoneyDraft { amount: m.amount, currency_code: m.currency_code });
    let record = OpportunityRecord {
        stage,
        close_state,
        id: o.id,
        partner_account_id: o.partner_account_id,
        lead_id: Some(o.lead_id).filter(|l| !l.is_empty()),
        name: o.name,
        customer_name: o.customer_name,
        close_date: o.close_date,
        ..Default::default()
    };
    (record, money, o.etag)
}

fn opportunity_to_proto(o: OpportunityRecord) -> pb::Opportunity {
    pb::Opportunity {
        amount: Some(pb::Money {
            amount: Decimal::from_hundredths(o.amount_hundredths).to_string(),
            currency_code: o.currency_code,
        }),
        stage: stage_from_stored(&o.stage).into(),
        close_state: close_from_stored(&o.close_state).into(),
        close_time: o.close_time.map(to_timestamp),
        create_time: Some(to_timestamp(o.created_at)),
        update_time: Some(to_timestamp(o.updated_at)),
        etag: lookup::etag(o.version),
        id: o.id,
        partner_account_id: o.partner_account_id,
        lead_id: o.lead_id.unwrap_or_default(),
        name: o.name,
        customer_name: o.customer_name,
        close_date: o.close_date,
        registered_by_user_id: o.registered_by_user_id,
    }
}

#[tonic::async_trait]
impl OpportunityService for OpportunityApi {
    async fn create_opportunity(
        &self,
        request: Request<pb::CreateOpportunityRequest>,
    ) -> Result<Response<pb::Opportunity>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (o, money, _) = opportunity_from_proto(required("opportunity", r.opportunity)?);
        let created = self.activity.create_opportunity(&caller, o, money, request_id(&r.request_id)?).await?;
        Ok(Response::new(opportunity_to_proto(created)))
    }

    async fn get_opportunity(
        &self,
        request: Request<pb::GetOpportunityRequest>,
    ) -> Result<Response<pb::Opportunity>, Status> {
        let caller = Caller::user_of(&request)?;
        validate::id("id", &request.get_ref().id)?;
        Ok(Response::new(opportunity_to_proto(self.activity.get_opportunity(caller, &request.get_ref().id).await?)))
    }

    async fn list_opportunities(
        &self,
        request: Request<pb::ListOpportunitiesRequest>,
    ) -> Result<Response<pb::ListOpportunitiesResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        let (size, limit) = page_limit(r.page_size)?;
        for (field, date) in [("close_date_from", &r.close_date_from), ("close_date_to", &r.close_date_to)] {
            if !date.is_empty() {
                crate::domain::dates::parse(date).map_err(|e| PartnerError::invalid(field, e))?;
            }
        }
        let filter = OpportunityFilter {
            partner_account_id: r.partner_account_id.clone(),
            lead_id: r.lead_id.clone(),
            stages: r.stages().map(stage_to_stored).filter(|s| !s.is_empty()).collect(),
            close_states: r.close_states().map(close_to_stored).filter(|s| !s.is_empty()).collect(),
            close_date_from: r.close_date_from.clone(),
            close_date_to: r.close_date_to.clone(),
            created: time_range("create_time", r.create_time)?,
            name_contains: r.name_contains.clone(),
        };
        let filters = fingerprint(&filter);
        let before = newest_first_position(&r.page_token, &filters)?;
        let mut rows = self.activity.list_opportunities(caller, &filter, before, limit).await?;
        let next_page_token = newest_first_next(&mut rows, size, &filters, |o| (o.created_at, &o.id));
        Ok(Response::new(pb::ListOpportunitiesResponse {
            opportunities: rows.into_iter().map(opportunity_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_opportunity(
        &self,
        request: Request<pb::UpdateOpportunityRequest>,
    ) -> Result<Response<pb::Opportunity>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let (patch, money, etag) = opportunity_from_proto(required("opportunity", r.opportunity)?);
        validate::id("opportunity.id", &patch.id)?;
        let updated =
            self.activity.update_opportunity(&caller, patch, money, &etag, &mask_paths(r.update_mask)).await?;
        Ok(Response::new(opportunity_to_proto(updated)))
    }

    async fn delete_opportunity(&self, request: Request<pb::DeleteOpportunityRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?;
        let r = request.get_ref();
        validate::id("id", &r.id)?;
        self.activity.delete_opportunity(caller, &r.id, &r.etag).await?;
        Ok(Response::new(()))
    }
}
