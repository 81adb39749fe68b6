//! `portal.notify.v1.NotifyInternalService`: queuing emails. Only the suite's own
//! services may call it (the assertion guard refuses anyone else).

use portal_proto::notify::{self as pb, notify_internal_service_server::NotifyInternalService};
use service_kit::{ApiError, error::Violations};
use tonic::{Request, Response, Status};

use super::{check_macro_values, templates::code_to_proto};
use crate::{
    domain::{culture, email, template},
    outbox::{EmailRequest, Outbox},
    templates::Templates,
};

#[derive(Debug, Clone)]
pub struct InternalApi {
    pub outbox: Outbox,
    pub templates: Templates,
}

#[tonic::async_trait]
impl NotifyInternalService for InternalApi {
    async fn enqueue(&self, request: Request<pb::EnqueueRequest>) -> Result<Response<pb::EnqueueResponse>, Status> {
        let pb::EnqueueRequest {
            idempotency_key,
            recipient_email,
            recipient_name,
            culture: wanted_culture,
            template_code,
            macro_values,
        } = request.into_inner();
        let mut violations = Violations::new();
        if idempotency_key.is_empty() {
            violations.add("idempotency_key", "is required");
        } else if idempotency_key.chars().count() > 200 {
            violations.add("idempotency_key", "must be at most 200 characters");
        }
        let recipient_email = violations.check("recipient_email", email::check(&recipient_email)).unwrap_or_default();
        if recipient_name.chars().count() > 200 {
            violations.add("recipient_name", "must be at most 200 characters");
        }
        let wanted_culture = if wanted_culture.trim().is_empty() {
            String::new()
        } else {
            violations.check("culture", culture::canonical(&wanted_culture)).unwrap_or_default()
        };
        if let Err(problem) = template::check_code(&template_code) {
            violations.add("template_code", problem);
        }
        check_macro_values(&macro_values, &mut violations);
        violations.finish()?;
        let (delivery_id, newly_created) = self
            .outbox
            .enqueue(EmailRequest {
                idempotency_key,
                recipient_email,
                recipient_name: recipient_name.trim().to_owned(),
                culture: wanted_culture,
                template_code,
                macro_values,
            })
            .await?;
        Ok(Response::new(pb::EnqueueResponse { delivery_id, newly_created }))
    }

    async fn get_template_code(
        &self,
        request: Request<pb::GetTemplateCodeRequest>,
    ) -> Result<Response<pb::TemplateCode>, Status> {
        let code = request.into_inner().code;
        if let Err(problem) = template::check_code(&code) {
            return Err(ApiError::invalid("code", problem).into());
        }
        Ok(Response::new(code_to_proto(self.templates.sendable_code(&code).await?)))
    }
}
