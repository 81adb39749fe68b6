//! `portal.case.v1.CaseInternalService`: firing due SLA events on request.

use portal_proto::case::{self as pb, case_internal_service_server::CaseInternalService};
use service_kit::{
    ApiError,
    clock::{from_timestamp, to_timestamp},
};
use tonic::{Request, Response, Status};

use super::convert::status;
use crate::sla_events::SlaEvents;

#[derive(Debug, Clone)]
pub struct InternalApi {
    pub events: SlaEvents,
}

#[tonic::async_trait]
impl CaseInternalService for InternalApi {
    async fn process_due_sla_events(
        &self,
        request: Request<pb::ProcessDueSlaEventsRequest>,
    ) -> Result<Response<pb::ProcessDueSlaEventsResponse>, Status> {
        let r = request.into_inner();
        let max_events = match r.max_events {
            0 => 1000,
            n if (1..=10_000).contains(&n) => i64::from(n),
            _ => return Err(ApiError::invalid("max_events", "must be between 0 (default 1,000) and 10,000").into()),
        };
        let now = r.now.as_ref().map(from_timestamp).unwrap_or_else(|| self.events.cases.clock.now());
        let fired = self.events.process(now, max_events).await.map_err(status)?;
        Ok(Response::new(pb::ProcessDueSlaEventsResponse {
            warnings_fired: fired.warnings,
            breaches_fired: fired.breaches,
            more_due: fired.more_due,
            next_due_time: fired.next_due.map(to_timestamp),
        }))
    }
}
