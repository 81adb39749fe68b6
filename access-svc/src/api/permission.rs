//! PermissionService (users checking themselves, administrators checking others) and
//! the checks of AccessInternalService: one set of handlers, differing only in how the
//! subject is chosen.

use portal_proto::access::{
    self as pb, BatchCheckRequest, BatchCheckResponse, CheckRequest, CheckResponse, CheckSystemOperationRequest,
    CheckSystemOperationResponse, ExplainRequest, ExplainResponse, explain_request::Question,
    permission_service_server::PermissionService,
};
use service_kit::{ApiError, Caller, validate};
use tonic::{Request, Response, Status};

use super::convert;
use crate::{domain::AccessError, permissions::Permissions};

/// Most queries one BatchCheck may carry.
const MAX_BATCH: usize = 100;

/// The subject of a public check: the caller, or (for administrators) the user named.
async fn public_subject(permissions: &Permissions, caller: &Caller, named: &str) -> Result<String, AccessError> {
    if named.is_empty() || named == caller.user_id {
        return Ok(caller.user_id.clone());
    }
    permissions.require_administrator(caller).await?;
    Ok(named.to_owned())
}

/// The subject of an internal check: required.
pub fn internal_subject(named: &str) -> Result<String, AccessError> {
    validate::id("subject_user_id", named)?;
    Ok(named.to_owned())
}

pub async fn check(
    permissions: &Permissions,
    subject: &str,
    request: &CheckRequest,
) -> Result<CheckResponse, ApiError> {
    let query = convert::query("query.", request.query.as_ref())?;
    let decision = permissions.check(subject, &query).await?;
    Ok(CheckResponse { result: Some(convert::result_to_proto(&decision)) })
}

pub async fn batch_check(
    permissions: &Permissions,
    subject: &str,
    request: &BatchCheckRequest,
) -> Result<BatchCheckResponse, ApiError> {
    if request.queries.is_empty() || request.queries.len() > MAX_BATCH {
        return Err(AccessError::invalid("queries", "send 1 to 100 queries").into());
    }
    let queries = request
        .queries
        .iter()
        .enumerate()
        .map(|(index, query)| convert::query(&format!("queries[{index}]."), Some(query)))
        .collect::<Result<Vec<_>, _>>()?;
    let decisions =
        futures::future::try_join_all(queries.iter().map(|query| permissions.check(subject, query))).await?;
    Ok(BatchCheckResponse { results: decisions.iter().map(convert::result_to_proto).collect() })
}

pub async fn check_system_operation(
    permissions: &Permissions,
    subject: &str,
    code: &str,
) -> Result<CheckSystemOperationResponse, ApiError> {
    let decision = permissions.check_system_operation(subject, code).await?.ok_or_else(|| unknown_operation(code))?;
    Ok(CheckSystemOperationResponse {
        allowed: decision.allowed,
        decided_level: decision.level as i32,
        denial_reason: decision.denial.map_or(0, |d| d as i32),
    })
}

fn unknown_operation(code: &str) -> AccessError {
    AccessError::invalid("operation_code", format!("'{code}' is not in the catalog (ListSystemOperations)"))
}

/// The gRPC adapter of PermissionService.
#[derive(Clone, Debug)]
pub struct PermissionApi {
    pub permissions: Permissions,
}

#[tonic::async_trait]
impl PermissionService for PermissionApi {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let request = request.into_inner();
        let subject = public_subject(&self.permissions, &caller, &request.subject_user_id).await?;
        Ok(Response::new(check(&self.permissions, &subject, &request).await?))
    }

    async fn batch_check(&self, request: Request<BatchCheckRequest>) -> Result<Response<BatchCheckResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let request = request.into_inner();
        let subject = public_subject(&self.permissions, &caller, &request.subject_user_id).await?;
        Ok(Response::new(batch_check(&self.permissions, &subject, &request).await?))
    }

    async fn check_system_operation(
        &self,
        request: Request<CheckSystemOperationRequest>,
    ) -> Result<Response<CheckSystemOperationResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let request = request.into_inner();
        let subject = public_subject(&self.permissions, &caller, &request.subject_user_id).await?;
        Ok(Response::new(check_system_operation(&self.permissions, &subject, &request.operation_code).await?))
    }

    async fn explain(&self, request: Request<ExplainRequest>) -> Result<Response<ExplainResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let request = request.into_inner();
        validate::id("subject_user_id", &request.subject_user_id)?;
        self.permissions.require_administrator(&caller).await?;
        let subject_id = &request.subject_user_id;
        let (subject, decision) = match &request.question {
            Some(Question::Query(query)) => {
                let query = convert::query("query.", Some(query))?;
                self.permissions.explain(subject_id, &query).await?
            }
            Some(Question::SystemOperationCode(code)) => {
                self.permissions.explain_system_operation(subject_id, code).await?.ok_or_else(|| {
                    AccessError::invalid("system_operation_code", format!("'{code}' is not in the catalog"))
                })?
            }
            None => return Err(AccessError::invalid("question", "set query or system_operation_code").into()),
        };
        if !subject.active && subject.role_ids.is_empty() && subject.organization_id.is_empty() {
            // identity did not know the user: Explain says so rather than explaining a denial.
            return Err(AccessError::NotFound("user", subject_id.clone()).into());
        }
        Ok(Response::new(ExplainResponse {
            allowed: decision.allowed,
            decided_level: decision.level as i32,
            denial_reason: decision.denial.map_or(0, |d| d as i32),
            subject: Some(pb::ExplainedSubject {
                user_id: subject.user_id.clone(),
                external: subject.external,
                system_administrator: subject.system_administrator,
                active: subject.active,
                organization_id: subject.organization_id.clone(),
                role_ids: subject.role_ids.clone(),
            }),
            steps: convert::steps_to_proto(&decision.steps),
            column_mask: decision.mask.as_ref().map(convert::mask_to_proto),
        }))
    }
}
