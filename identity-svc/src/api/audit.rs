//! `portal.identity.v1.AuditService`: reading the audit log.

use portal_proto::identity::{self as pb, audit_service_server::AuditService};
use service_kit::{
    ApiError, Caller,
    clock::{from_timestamp, to_timestamp},
    paging, validate,
};
use tonic::{Request, Response, Status};

use crate::{
    domain::IdentityError,
    storage::{AuditFilter, AuditRecord, Store},
};

#[derive(Debug, Clone)]
pub struct AuditApi {
    pub store: Store,
}

fn to_proto(record: AuditRecord) -> pb::AuditEvent {
    let actor_kind = match record.actor_kind.as_str() {
        "user" => pb::AuditActorKind::User,
        "anonymous" => pb::AuditActorKind::Anonymous,
        "service" => pb::AuditActorKind::Service,
        _ => pb::AuditActorKind::System,
    };
    pb::AuditEvent {
        id: record.id,
        time: Some(to_timestamp(record.occurred_at)),
        actor_kind: actor_kind.into(),
        actor_user_id: record.actor_user_id,
        actor_session_id: record.actor_session_id,
        actor_service: record.actor_service,
        source: record.source,
        action: record.action,
        resource_type: record.resource_type,
        resource_id: record.resource_id,
        organization_id: record.organization_id,
        before_json: record.before_json,
        after_json: record.after_json,
        request_id: record.request_id,
    }
}

/// Only system administrators read the audit log until access-svc can grant it to others.
fn require_auditor<T>(request: &Request<T>) -> Result<(), Status> {
    if Caller::user_of(request)?.system_administrator {
        Ok(())
    } else {
        Err(IdentityError::NotAllowed("only system administrators may read the audit log").into())
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn get_audit_event(
        &self,
        request: Request<pb::GetAuditEventRequest>,
    ) -> Result<Response<pb::AuditEvent>, Status> {
        require_auditor(&request)?;
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let record = self.store.audit_event(&id).await?.ok_or_else(|| ApiError::not_found("audit event", &id))?;
        Ok(Response::new(to_proto(record)))
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        require_auditor(&request)?;
        let r = request.into_inner();
        let page_size = paging::page_size(r.page_size)?;
        let after = paging::position(&r.page_token)?;
        let filter = AuditFilter {
            actor_user_id: r.actor_user_id,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            action: r.action,
            organization_id: r.organization_id,
            from: r.start_time.as_ref().map(from_timestamp),
            until: r.end_time.as_ref().map(from_timestamp),
            after,
        };
        let mut records = self.store.audit_events(&filter, page_size + 1).await?;
        let next_page_token = paging::next_page(&mut records, page_size, |r| (r.occurred_at, &r.id));
        Ok(Response::new(pb::ListAuditEventsResponse {
            audit_events: records.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }
}
