//! `portal.identity.v1.RegistrationService`: self-registration. Both calls are public.

use portal_proto::identity::{self as pb, registration_service_server::RegistrationService};
use service_kit::{ApiError, Caller};
use tonic::{Request, Response, Status};

use crate::{
    domain::password_policy,
    registration::{Registration, Registrations},
};

#[derive(Debug, Clone)]
pub struct RegistrationApi {
    pub registrations: Registrations,
}

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    async fn register(&self, request: Request<pb::RegisterRequest>) -> Result<Response<pb::RegisterResponse>, Status> {
        let client_address = Caller::of(&request)?.client_address.clone();
        let pb::RegisterRequest { email, password, full_name, culture } = request.into_inner();
        if password.chars().count() > password_policy::MAX_CHARS {
            return Err(
                ApiError::invalid_because("password", "must be at most 128 characters", "PASSWORD_TOO_LONG").into()
            );
        }
        self.registrations.register(Registration { email, password, full_name, culture, client_address }).await?;
        Ok(Response::new(pb::RegisterResponse {}))
    }

    async fn confirm_registration(
        &self,
        request: Request<pb::ConfirmRegistrationRequest>,
    ) -> Result<Response<pb::ConfirmRegistrationResponse>, Status> {
        let client_address = Caller::of(&request)?.client_address.clone();
        let token = request.into_inner().token;
        if token.is_empty() {
            return Err(ApiError::invalid("token", "is required: the token from the confirmation link").into());
        }
        let confirmed = self.registrations.confirm(&token, &client_address).await?;
        Ok(Response::new(pb::ConfirmRegistrationResponse { user_id: confirmed.user_id, email: confirmed.email }))
    }
}
