//! `portal.identity.v1.PasswordService`: changing one's password, and recovering a
//! forgotten one with an emailed link.

use portal_proto::identity::{self as pb, password_service_server::PasswordService};
use service_kit::{Caller, error::Violations};
use tonic::{Request, Response, Status};

use crate::{auth::Auth, domain::password_policy, recovery::Recovery};

#[derive(Debug, Clone)]
pub struct PasswordApi {
    pub auth: Auth,
    pub recovery: Recovery,
}

#[tonic::async_trait]
impl PasswordService for PasswordApi {
    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let pb::ChangePasswordRequest { current_password, new_password } = request.into_inner();
        let mut violations = Violations::new();
        if current_password.is_empty() {
            violations.add("current_password", "is required");
        } else if current_password.chars().count() > password_policy::MAX_CHARS {
            violations.add("current_password", "must be at most 128 characters");
        }
        if new_password.is_empty() {
            violations.add("new_password", "is required");
        }
        violations.finish()?;
        let ended = self.auth.change_password(&caller, &current_password, &new_password).await?;
        Ok(Response::new(pb::ChangePasswordResponse { ended_session_count: ended.try_into().unwrap_or(i32::MAX) }))
    }

    async fn request_password_recovery(
        &self,
        request: Request<pb::RequestPasswordRecoveryRequest>,
    ) -> Result<Response<pb::RequestPasswordRecoveryResponse>, Status> {
        let client_address = Caller::of(&request)?.client_address.clone();
        let email = request.into_inner().email;
        self.recovery.request(&email, &client_address).await?;
        Ok(Response::new(pb::RequestPasswordRecoveryResponse {}))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let client_address = Caller::of(&request)?.client_address.clone();
        let pb::ResetPasswordRequest { token, new_password } = request.into_inner();
        let mut violations = Violations::new();
        if token.is_empty() {
            violations.add("token", "is required: the token from the recovery link");
        }
        if new_password.is_empty() {
            violations.add("new_password", "is required");
        }
        violations.finish()?;
        let email = self.recovery.reset(&token, &new_password, &client_address).await?;
        Ok(Response::new(pb::ResetPasswordResponse { email }))
    }
}
