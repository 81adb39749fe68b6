//! AccessInternalService: checks for an explicit subject, record filters, record
//! registration and sharing, the grant change feed, and identity's invalidations.

use portal_proto::access::{
    self as pb, BatchCheckRequest, BatchCheckResponse, CheckRequest, CheckResponse, CheckSystemOperationRequest,
    CheckSystemOperationResponse, InvalidateMembershipsRequest, InvalidateMembershipsResponse,
    PullRecordGrantChangesRequest, PullRecordGrantChangesResponse, RecordFilterRequest, RecordFilterResponse,
    RegisterRecordRequest, RegisterRecordResponse, RemoveGranteeRequest, RemoveGranteeResponse, ShareRecordRequest,
    ShareRecordResponse, UnregisterRecordRequest, UnregisterRecordResponse, UnshareRecordRequest,
    UnshareRecordResponse, access_internal_service_server::AccessInternalService,
};
use service_kit::{ApiError, Caller, validate};
use tonic::{Request, Response, Status};

use super::{catalog::section, convert, permission, record_grant_to_proto};
use crate::{
    admin::{Admin, actor},
    cache::Counter,
    domain::{AccessError, Operation, evaluate::Filter, evaluate::Query},
    permissions::Permissions,
    sharing::Sharing,
    storage::records::Source,
};

/// Default and largest page of PullRecordGrantChanges.
const DEFAULT_PULL: i64 = 500;
const MAX_PULL: i64 = 5000;
/// Most ids one InvalidateMemberships may name.
const MAX_INVALIDATIONS: usize = 10_000;

/// The gRPC adapter of AccessInternalService.
#[derive(Clone, Debug)]
pub struct InternalApi {
    pub permissions: Permissions,
    pub sharing: Sharing,
    pub admin: Admin,
}

fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(Caller::of(request)?.clone())
}

fn object_and_record(object_code: &str, record_id: &str) -> Result<(), AccessError> {
    validate::id("object_code", object_code)?;
    validate::id("record_id", record_id)?;
    Ok(())
}

#[tonic::async_trait]
impl AccessInternalService for InternalApi {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckResponse>, Status> {
        let request = request.into_inner();
        let subject = permission::internal_subject(&request.subject_user_id).map_err(ApiError::from)?;
        Ok(Response::new(permission::check(&self.permissions, &subject, &request).await?))
    }

    async fn batch_check(&self, request: Request<BatchCheckRequest>) -> Result<Response<BatchCheckResponse>, Status> {
        let request = request.into_inner();
        let subject = permission::internal_subject(&request.subject_user_id).map_err(ApiError::from)?;
        Ok(Response::new(permission::batch_check(&self.permissions, &subject, &request).await?))
    }

    async fn check_system_operation(
        &self,
        request: Request<CheckSystemOperationRequest>,
    ) -> Result<Response<CheckSystemOperationResponse>, Status> {
        let request = request.into_inner();
        let subject = permission::internal_subject(&request.subject_user_id).map_err(ApiError::from)?;
        Ok(Response::new(
            permission::check_system_operation(&self.permissions, &subject, &request.operation_code).await?,
        ))
    }

    async fn record_filter(
        &self,
        request: Request<RecordFilterRequest>,
    ) -> Result<Response<RecordFilterResponse>, Status> {
        let request = request.into_inner();
        let subject = permission::internal_subject(&request.subject_user_id).map_err(ApiError::from)?;
        validate::id("object_code", &request.object_code)?;
        let operation = match Operation::from_i32(request.operation) {
            Some(op @ (Operation::Read | Operation::Update | Operation::Delete)) => op,
            _ => return Err(ApiError::from(AccessError::invalid("operation", "must be READ, UPDATE or DELETE")).into()),
        };
        let query = Query { object_code: request.object_code, operation, record_id: None, column_codes: Vec::new() };
        let answer = self.permissions.record_filter(&subject, &query).await?;
        let mut filter = pb::RecordFilter { min_grants_revision: answer.min_grants_revision, ..Default::default() };
        match answer.filter {
            Filter::AllowAll => filter.mode = pb::RecordFilterMode::AllowAll.into(),
            Filter::DenyAll { level, denial } => {
                filter.mode = pb::RecordFilterMode::DenyAll.into();
                filter.decided_level = level as i32;
                filter.denial_reason = denial as i32;
            }
            Filter::Match { author_user_ids, grantee_keys, required_right } => {
                filter.mode = pb::RecordFilterMode::Match.into();
                filter.author_user_ids = author_user_ids;
                filter.grantee_keys = grantee_keys;
                filter.required_right = required_right as i32;
            }
        }
        Ok(Response::new(RecordFilterResponse {
            filter: Some(filter),
            column_mask: answer.mask.as_ref().map(convert::mask_to_proto),
        }))
    }

    async fn register_record(
        &self,
        request: Request<RegisterRecordRequest>,
    ) -> Result<Response<RegisterRecordResponse>, Status> {
        let actor = actor(&caller(&request)?);
        let r = request.into_inner();
        object_and_record(&r.object_code, &r.record_id).map_err(ApiError::from)?;
        validate::id("author_user_id", &r.author_user_id)?;
        let registration =
            self.sharing.register(&actor, &r.object_code, &r.record_id, &r.author_user_id, &r.organization_id).await?;
        Ok(Response::new(RegisterRecordResponse {
            newly_registered: registration.newly_registered,
            record_grants: registration.grants.iter().map(record_grant_to_proto).collect(),
            grants_revision: registration.revision,
        }))
    }

    async fn unregister_record(
        &self,
        request: Request<UnregisterRecordRequest>,
    ) -> Result<Response<UnregisterRecordResponse>, Status> {
        let actor = actor(&caller(&request)?);
        let r = request.into_inner();
        object_and_record(&r.object_code, &r.record_id).map_err(ApiError::from)?;
        let (removed_grant_count, grants_revision) =
            self.sharing.unregister(&actor, &r.object_code, &r.record_id).await?;
        Ok(Response::new(UnregisterRecordResponse { removed_grant_count, grants_revision }))
    }

    async fn share_record(
        &self,
        request: Request<ShareRecordRequest>,
    ) -> Result<Response<ShareRecordResponse>, Status> {
        let actor = actor(&caller(&request)?);
        let r = request.into_inner();
        object_and_record(&r.object_code, &r.record_id).map_err(ApiError::from)?;
        let grantee = convert::grantee("grantee", r.grantee.as_ref()).map_err(ApiError::from)?;
        let rights = convert::rights("rights", &r.rights).map_err(ApiError::from)?;
        let (grant, grants_revision) =
            self.sharing.share(&actor, &r.object_code, &r.record_id, grantee, rights).await?;
        Ok(Response::new(ShareRecordResponse { record_grant: Some(record_grant_to_proto(&grant)), grants_revision }))
    }

    async fn unshare_record(
        &self,
        request: Request<UnshareRecordRequest>,
    ) -> Result<Response<UnshareRecordResponse>, Status> {
        let actor = actor(&caller(&request)?);
        let r = request.into_inner();
        object_and_record(&r.object_code, &r.record_id).map_err(ApiError::from)?;
        let grantee = match &r.grantee {
            Some(g) if g.subject.is_some() => Some(convert::grantee("grantee", Some(g)).map_err(ApiError::from)?),
            _ => None,
        };
        let (removed, grants_revision) = self
            .sharing
            .unshare(&actor, &r.object_code, &r.record_id, grantee.as_ref(), Source::from_i32(r.source))
            .await?;
        Ok(Response::new(UnshareRecordResponse {
            removed_record_grants: removed.iter().map(record_grant_to_proto).collect(),
            grants_revision,
        }))
    }

    async fn pull_record_grant_changes(
        &self,
        request: Request<PullRecordGrantChangesRequest>,
    ) -> Result<Response<PullRecordGrantChangesResponse>, Status> {
        let r = request.into_inner();
        validate::id("object_code", &r.object_code)?;
        if r.after_revision < 0 {
            return Err(ApiError::from(AccessError::invalid("after_revision", "must be 0 or more")).into());
        }
        let page_size = match i64::from(r.page_size) {
            0 => DEFAULT_PULL,
            n if (1..=MAX_PULL).contains(&n) => n,
            _ => return Err(ApiError::from(AccessError::invalid("page_size", "must be 0 to 5000")).into()),
        };
        let (changes, revision, more) = self.sharing.pull(&r.object_code, r.after_revision, page_size).await?;
        Ok(Response::new(PullRecordGrantChangesResponse {
            changes: changes
                .into_iter()
                .map(|c| pb::RecordGrantChange {
                    revision: c.revision,
                    grant_id: c.grant_id,
                    record_id: c.record_id,
                    grantee_key: c.grantee_key,
                    rights: convert::rights_to_proto(c.rights),
                    removed: c.removed,
                })
                .collect(),
            revision,
            more,
        }))
    }

    async fn invalidate_memberships(
        &self,
        request: Request<InvalidateMembershipsRequest>,
    ) -> Result<Response<InvalidateMembershipsResponse>, Status> {
        let r = request.into_inner();
        if r.user_ids.len() + r.role_ids.len() > MAX_INVALIDATIONS {
            return Err(ApiError::from(AccessError::invalid("user_ids", "at most 10000 ids per call")).into());
        }
        let mut counters: Vec<Counter> = r.user_ids.into_iter().map(Counter::User).collect();
        if !r.role_ids.is_empty() {
            // Every member of those roles may be affected: re-read every profile.
            counters.push(Counter::MembershipGeneration);
        }
        if !counters.is_empty() {
            self.permissions.cache().bump(&counters).await;
        }
        Ok(Response::new(InvalidateMembershipsResponse {}))
    }

    async fn remove_grantee(
        &self,
        request: Request<RemoveGranteeRequest>,
    ) -> Result<Response<RemoveGranteeResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let grantee = convert::grantee("grantee", r.grantee.as_ref()).map_err(ApiError::from)?;
        let removed_count = self.admin.remove_grantee(&caller, &grantee).await?;
        Ok(Response::new(RemoveGranteeResponse { removed_count }))
    }

    async fn get_section_by_code(
        &self,
        request: Request<pb::GetSectionByCodeRequest>,
    ) -> Result<Response<pb::Section>, Status> {
        let code = request.into_inner().code;
        validate::id("code", &code)?;
        let row = self.admin.store.section_by_code(&code).await?;
        let row = row.ok_or_else(|| ApiError::not_found("section", &code))?;
        Ok(Response::new(section(&row)))
    }
}
