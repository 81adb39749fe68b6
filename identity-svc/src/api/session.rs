//! `portal.identity.v1.SessionService`: Login, Logout, WhoAmI.

use portal_proto::identity::{self as pb, session_service_server::SessionService};
use service_kit::{Caller, clock::to_timestamp, error::Violations};
use tonic::{Request, Response, Status};

use crate::{
    auth::{Auth, OpenedSession},
    domain::password_policy,
};

#[derive(Debug, Clone)]
pub struct SessionApi {
    pub auth: Auth,
}

/// The API form of a session just opened (Login, RedeemInvitation).
pub fn login_response(opened: OpenedSession) -> pb::LoginResponse {
    pb::LoginResponse {
        token: opened.token,
        session_id: opened.session_id,
        user_id: opened.user_id,
        expire_time: Some(to_timestamp(opened.expires_at)),
        idle_timeout_seconds: opened.idle_ms / 1000,
    }
}

#[tonic::async_trait]
impl SessionService for SessionApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let pb::LoginRequest { email, password } = request.into_inner();
        let mut violations = Violations::new();
        if email.trim().is_empty() {
            violations.add("email", "is required");
        } else if email.len() > 254 {
            violations.add("email", "must be at most 254 characters");
        }
        if password.is_empty() {
            violations.add("password", "is required");
        } else if password.chars().count() > password_policy::MAX_CHARS {
            violations.add("password", "must be at most 128 characters");
        }
        violations.finish()?;
        let opened = self.auth.login(&email, &password, &caller).await?;
        Ok(Response::new(login_response(opened)))
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?;
        self.auth.logout(&caller.session_id).await?;
        Ok(Response::new(()))
    }

    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let caller = Caller::user_of(&request)?;
        let (user, session) = self.auth.who_am_i(&caller.user_id, &caller.session_id).await?;
        Ok(Response::new(pb::WhoAmIResponse {
            user_id: user.id.clone(),
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            kind: pb::UserKind::from(user.kind()).into(),
            organization_id: user.organization_id.clone().unwrap_or_default(),
            system_administrator: user.is_system_administrator(),
            session_id: session.id,
            expire_time: Some(to_timestamp(session.expires_at)),
            culture: user.culture,
        }))
    }
}
