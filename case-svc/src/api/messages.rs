//! `portal.case.v1.CaseMessageService`.

use portal_proto::case::{self as pb, case_message_service_server::CaseMessageService};
use service_kit::{error::Violations, paging, validate};
use tonic::{Request, Response, Status};

use super::attachments::attachment_to_proto;
use super::convert::{caller, check_length, check_request_id, message_to_proto, status};
use crate::messages::Messages;

#[derive(Debug, Clone)]
pub struct MessageApi {
    pub messages: Messages,
}

#[tonic::async_trait]
impl CaseMessageService for MessageApi {
    async fn post_message(
        &self,
        request: Request<pb::PostMessageRequest>,
    ) -> Result<Response<pb::CaseMessage>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("case_id", &r.case_id)?;
        check_request_id(&r.request_id)?;
        let mut violations = Violations::new();
        check_length(&mut violations, "body", r.body.trim(), 1, 32_000);
        violations.finish()?;
        let message =
            self.messages.post(&caller, &r.case_id, r.body, r.is_complaint, &r.request_id).await.map_err(status)?;
        Ok(Response::new(message_to_proto(message)))
    }

    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        validate::id("case_id", &r.case_id)?;
        let limit = paging::page_size(r.page_size)?;
        let after = paging::position(&r.page_token)?;
        let mut messages = self
            .messages
            .list(&caller, &r.case_id, r.complaints_only, r.newest_first, after, limit + 1)
            .await
            .map_err(status)?;
        let next_page_token = paging::next_page(&mut messages, limit, |(m, _)| (m.created_at, &m.id));
        let messages = messages
            .into_iter()
            .map(|(message, files)| pb::CaseMessage {
                attachments: files.into_iter().map(attachment_to_proto).collect(),
                ..message_to_proto(message)
            })
            .collect();
        Ok(Response::new(pb::ListMessagesResponse { messages, next_page_token }))
    }
}
