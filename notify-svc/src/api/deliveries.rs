//! `portal.notify.v1.DeliveryService`: what became of each email. Bodies are never
//! returned, and one-time link tokens in what is shown are redacted, whoever asks.

use portal_proto::notify::{self as pb, delivery_service_server::DeliveryService};
use service_kit::access::AccessClient;
use service_kit::{clock::to_timestamp, error::Violations, validate};
use tonic::{Request, Response, Status};

use super::{authorized, decode_token, encode_token, page_size};
use crate::{
    domain::{delivery::DeliveryState, email, links},
    outbox::Outbox,
    storage::{DeliveryFilter, DeliveryRow},
};

/// The system operation every delivery call needs (deliveries show who was mailed
/// what; a retry mails again).
const OPERATION: &str = "CanAdministratePortalUsers";

#[derive(Debug, Clone)]
pub struct DeliveryApi {
    pub access: AccessClient,
    pub outbox: Outbox,
}

impl From<DeliveryState> for pb::DeliveryState {
    fn from(state: DeliveryState) -> Self {
        match state {
            DeliveryState::Queued => Self::Queued,
            DeliveryState::Sending => Self::Sending,
            DeliveryState::Delivered => Self::Delivered,
            DeliveryState::Retrying => Self::Retrying,
            DeliveryState::DeadLettered => Self::DeadLettered,
        }
    }
}

impl From<DeliveryRow> for pb::Delivery {
    fn from(row: DeliveryRow) -> Self {
        let state = row.state();
        let next_attempt_time = match state {
            DeliveryState::Queued | DeliveryState::Retrying => row.due_at.map(to_timestamp),
            _ => None,
        };
        Self {
            id: row.id,
            idempotency_key: row.idempotency_key,
            template_code: row.template_code,
            culture: row.culture,
            template_culture: row.template_culture,
            recipient_email: row.recipient_email,
            recipient_name: row.recipient_name,
            from_address: row.from_address,
            subject: links::redact_tokens(&row.subject),
            state: pb::DeliveryState::from(state).into(),
            attempts: row.attempts as i32,
            next_attempt_time,
            last_error: links::redact_tokens(&row.last_error),
            last_smtp_code: row.last_smtp_code as i32,
            message_id: row.message_id,
            create_time: Some(to_timestamp(row.created_at)),
            deliver_time: row.delivered_at.map(to_timestamp),
            dead_letter_time: row.dead_lettered_at.map(to_timestamp),
            update_time: Some(to_timestamp(row.updated_at)),
        }
    }
}

#[tonic::async_trait]
impl DeliveryService for DeliveryApi {
    async fn get_delivery(&self, request: Request<pb::GetDeliveryRequest>) -> Result<Response<pb::Delivery>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        Ok(Response::new(self.outbox.get(&id).await?.into()))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        authorized(&self.access, &request, OPERATION).await?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let limit = violations
            .check("page_size", page_size(request.page_size).map_err(|s| s.message().to_owned()))
            .unwrap_or_default();
        let recipient_email = if request.recipient_email.trim().is_empty() {
            None
        } else {
            violations.check("recipient_email", email::check(&request.recipient_email))
        };
        let state = match pb::DeliveryState::try_from(request.state) {
            Ok(pb::DeliveryState::Unspecified) => None,
            Ok(state) => Some(DeliveryState::from_stored(state as i16)),
            Err(_) => {
                violations.add("state", "is not a DeliveryState");
                None
            }
        };
        violations.finish()?;
        let before: Option<(i64, String)> = decode_token(&request.page_token)?;
        let filter = DeliveryFilter {
            recipient_email,
            state,
            template_code: (!request.template_code.is_empty()).then_some(request.template_code),
            before,
            limit: limit + 1,
        };
        let mut rows = self.outbox.list(&filter).await?;
        let next_page_token = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_token(&(last.created_at, last.id.clone()))).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn retry_delivery(
        &self,
        request: Request<pb::RetryDeliveryRequest>,
    ) -> Result<Response<pb::RetryDeliveryResponse>, Status> {
        let actor = authorized(&self.access, &request, OPERATION).await?.user_id.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let row = self.outbox.retry(&id, &actor).await?;
        Ok(Response::new(pb::RetryDeliveryResponse { delivery: Some(row.into()) }))
    }
}
