//! `portal.case.v1.ServiceAgreementService`, with agreement selection.

use portal_proto::case::{
    self as pb, service_agreement::ServiceObject, service_agreement_service_server::ServiceAgreementService,
};
use service_kit::{ApiError, error::Violations, paging, validate};
use tonic::{Request, Response, Status};

use super::convert::{
    agreement_status_to_store, agreement_to_proto, caller, check_length, check_request_id, invalid, mask_paths, status,
};
use crate::{
    agreements::{AgreementFields, Agreements},
    domain::agreement_selection::{Selection, ServiceLevel},
    storage::agreements::AgreementFilter,
};

#[derive(Debug, Clone)]
pub struct AgreementApi {
    pub agreements: Agreements,
}

fn object(object: &Option<ServiceObject>) -> Option<(String, String)> {
    match object.as_ref()? {
        ServiceObject::ContactId(id) => Some(("contact".into(), id.clone())),
        ServiceObject::DepartmentId(id) => Some(("department".into(), id.clone())),
        ServiceObject::AccountId(id) => Some(("account".into(), id.clone())),
    }
}

/// Checks the fields a request sets, as they will be stored.
fn check(fields: &AgreementFields) -> Result<(), Status> {
    let mut violations = Violations::new();
    check_length(&mut violations, "service_agreement.name", &fields.name, 1, 250);
    check_length(&mut violations, "service_agreement.description", &fields.description, 0, 4000);
    if fields.service_ids.is_empty() || fields.service_ids.len() > 500 {
        violations.add("service_agreement.service_item_ids", "name 1 to 500 covered services");
    }
    if fields.calendar_id.is_empty() {
        violations.add("service_agreement.calendar_id", "is required");
    }
    if fields.service_object.as_ref().is_some_and(|(_, id)| id.is_empty()) {
        violations.add("service_agreement.service_object", "the id must not be empty");
    }
    violations.finish().map_err(Status::from)
}

#[tonic::async_trait]
impl ServiceAgreementService for AgreementApi {
    async fn create_service_agreement(
        &self,
        request: Request<pb::CreateServiceAgreementRequest>,
    ) -> Result<Response<pb::ServiceAgreement>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        check_request_id(&request.request_id)?;
        let agreement =
            request.service_agreement.ok_or_else(|| ApiError::invalid("service_agreement", "is required"))?;
        let status_value =
            if agreement.status == 0 { Some("active") } else { agreement_status_to_store(agreement.status) };
        let fields = AgreementFields {
            name: agreement.name.trim().to_owned(),
            description: agreement.description.clone(),
            service_object: object(&agreement.service_object),
            service_ids: agreement.service_item_ids.clone(),
            calendar_id: agreement.calendar_id.clone(),
            status: status_value.ok_or_else(|| ApiError::invalid("service_agreement.status", "unknown status"))?.into(),
            is_default: agreement.is_default,
        };
        check(&fields)?;
        let created = self.agreements.create(&caller, fields, &request.request_id).await.map_err(status)?;
        Ok(Response::new(agreement_to_proto(created)))
    }

    async fn get_service_agreement(
        &self,
        request: Request<pb::GetServiceAgreementRequest>,
    ) -> Result<Response<pb::ServiceAgreement>, Status> {
        let caller = caller(&request)?;
        validate::id("id", &request.get_ref().id)?;
        let agreement = self.agreements.get(&caller, &request.get_ref().id).await.map_err(status)?;
        Ok(Response::new(agreement_to_proto(agreement)))
    }

    async fn list_service_agreements(
        &self,
        request: Request<pb::ListServiceAgreementsRequest>,
    ) -> Result<Response<pb::ListServiceAgreementsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let limit = paging::page_size(request.page_size)?;
        let mut statuses = Vec::new();
        for value in &request.statuses {
            statuses.push(
                agreement_status_to_store(*value)
                    .ok_or_else(|| ApiError::invalid("statuses", "unknown status"))?
                    .into(),
            );
        }
        let objects = [
            ("contact", &request.contact_id),
            ("department", &request.department_id),
            ("account", &request.account_id),
        ]
        .into_iter()
        .filter(|(_, id)| !id.is_empty())
        .map(|(kind, id)| (kind.to_owned(), id.clone()))
        .collect();
        let filter = AgreementFilter {
            statuses,
            objects,
            service_id: request.service_item_id,
            calendar_id: request.calendar_id,
            restrict_to_objects: false,
            after: paging::text_position(&request.page_token)?,
            limit: limit + 1,
        };
        let mut agreements = self.agreements.list(&caller, filter).await.map_err(status)?;
        let next_page_token = if agreements.len() as i64 > limit {
            agreements.truncate(limit as usize);
            agreements.last().map(|a| paging::text_token(&a.name_key, &a.id)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListServiceAgreementsResponse {
            service_agreements: agreements.into_iter().map(agreement_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_service_agreement(
        &self,
        request: Request<pb::UpdateServiceAgreementRequest>,
    ) -> Result<Response<pb::ServiceAgreement>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let agreement =
            request.service_agreement.ok_or_else(|| ApiError::invalid("service_agreement", "is required"))?;
        validate::id("service_agreement.id", &agreement.id)?;
        let paths = mask_paths(
            request.update_mask,
            &["name", "description", "service_object", "service_item_ids", "calendar_id", "status", "is_default"],
        )?;
        let updated = self
            .agreements
            .update(&caller, &agreement.id, &agreement.etag, |fields| {
                for path in &paths {
                    match path.as_str() {
                        "name" => fields.name = agreement.name.trim().to_owned(),
                        "description" => fields.description = agreement.description.clone(),
                        "service_object" => fields.service_object = object(&agreement.service_object),
                        "service_item_ids" => fields.service_ids = agreement.service_item_ids.clone(),
                        "calendar_id" => fields.calendar_id = agreement.calendar_id.clone(),
                        "status" => {
                            fields.status = agreement_status_to_store(agreement.status)
                                .ok_or_else(|| {
                                    invalid(ApiError::invalid("service_agreement.status", "is required").into())
                                })?
                                .into()
                        }
                        _ => fields.is_default = agreement.is_default,
                    }
                }
                check(fields).map_err(invalid)
            })
            .await
            .map_err(status)?;
        Ok(Response::new(agreement_to_proto(updated)))
    }

    async fn delete_service_agreement(
        &self,
        request: Request<pb::DeleteServiceAgreementRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        validate::id("id", &request.id)?;
        self.agreements.delete(&caller, &request.id, &request.etag).await.map_err(status)?;
        Ok(Response::new(()))
    }

    async fn select_service_agreement(
        &self,
        request: Request<pb::SelectServiceAgreementRequest>,
    ) -> Result<Response<pb::SelectServiceAgreementResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        if !request.service_item_id.is_empty() {
            self.agreements
                .store
                .service(&request.service_item_id)
                .await
                .map_err(status)?
                .ok_or_else(|| ApiError::NotFound { resource: "service item", id: request.service_item_id.clone() })?;
        }
        let contact = self.agreements.contact_for(&caller, &request.contact_id).await.map_err(status)?;
        let (selection, agreements) =
            self.agreements.select(&contact, &request.service_item_id).await.map_err(status)?;
        let level = |level: Option<ServiceLevel>| match level {
            Some(ServiceLevel::Contact) => pb::AgreementMatch::Contact,
            Some(ServiceLevel::Department) => pb::AgreementMatch::Department,
            Some(ServiceLevel::Account) => pb::AgreementMatch::Account,
            None => pb::AgreementMatch::Default,
        };
        let selection = match selection {
            Selection::Selected { agreement_id, level: found } => pb::AgreementSelection {
                service_agreement_id: agreement_id,
                r#match: level(found).into(),
                candidate_ids: Vec::new(),
            },
            Selection::Tie { level: found, candidate_ids } => pb::AgreementSelection {
                service_agreement_id: String::new(),
                r#match: level(Some(found)).into(),
                candidate_ids,
            },
            Selection::None => pb::AgreementSelection {
                service_agreement_id: String::new(),
                r#match: pb::AgreementMatch::None.into(),
                candidate_ids: Vec::new(),
            },
        };
        Ok(Response::new(pb::SelectServiceAgreementResponse {
            selection: Some(selection),
            service_agreements: agreements.into_iter().map(agreement_to_proto).collect(),
        }))
    }
}
