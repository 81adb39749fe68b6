//! `portal.notify.v1.EmailAuditService`: who changed which template, and who retried
//! which delivery. One-time tokens in the recorded values are redacted.

use portal_proto::notify::{self as pb, email_audit_service_server::EmailAuditService};
use service_kit::{access::AccessClient, clock::to_timestamp, validate};
use tonic::{Request, Response, Status};

use super::{authorized, decode_token, encode_token, page_size};
use crate::{
    domain::links,
    storage::{AuditFilter, AuditRow, Store},
};

/// The system operation reading notify's audit log needs (as identity's audit log).
const OPERATION: &str = "CanAdministratePortalUsers";

#[derive(Debug, Clone)]
pub struct AuditApi {
    pub access: AccessClient,
    pub store: Store,
}

impl From<AuditRow> for pb::EmailAuditEvent {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            time: Some(to_timestamp(row.occurred_at)),
            actor_user_id: row.actor_user_id,
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            before_json: links::redact_tokens(&row.before_json),
            after_json: links::redact_tokens(&row.after_json),
        }
    }
}

/// A filter value: `None` when empty, else as an id is checked.
fn filter(field: &str, value: &str) -> Result<Option<String>, Status> {
    Ok(validate::optional_id(field, value)?.map(str::to_owned))
}

#[tonic::async_trait]
impl EmailAuditService for AuditApi {
    async fn list_email_audit_events(
        &self,
        request: Request<pb::ListEmailAuditEventsRequest>,
    ) -> Result<Response<pb::ListEmailAuditEventsResponse>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let filter = AuditFilter {
            resource_type: filter("resource_type", &request.resource_type)?,
            resource_id: filter("resource_id", &request.resource_id)?,
            actor_user_id: filter("actor_user_id", &request.actor_user_id)?,
            before: decode_token(&request.page_token)?,
            limit: limit + 1,
        };
        let mut rows = self.store.audit_events(&filter).await?;
        let next_page_token = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_token(&(last.occurred_at, last.id.clone()))).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListEmailAuditEventsResponse {
            email_audit_events: rows.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }
}
