//! `portal.identity.v1.PasswordService`: changing one's password. Recovery arrives with
//! the rest of the identity issue (it needs notify-svc's email).

use portal_proto::identity::{self as pb, password_service_server::PasswordService};
use service_kit::{Caller, error::Violations};
use tonic::{Request, Response, Status};

use crate::{auth::Auth, domain::password_policy};

#[derive(Debug, Clone)]
pub struct PasswordApi {
    pub auth: Auth,
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
        _request: Request<pb::RequestPasswordRecoveryRequest>,
    ) -> Result<Response<pb::RequestPasswordRecoveryResponse>, Status> {
        Err(Status::unimplemented("RequestPasswordRecovery is not implemented yet (it needs notify-svc's email)"))
    }

    async fn reset_password(
        &self,
        _request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        Err(Status::unimplemented("ResetPassword is not implemented yet (it needs notify-svc's email)"))
    }
}
