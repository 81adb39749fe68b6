//! `portal.identity.v1.IdentityInternalService`: what the gateway and the other
//! services ask identity. Only the suite's own services may call it.

use portal_proto::identity::{self as pb, identity_internal_service_server::IdentityInternalService};
use service_kit::{ApiError, clock::to_timestamp};
use tonic::{Request, Response, Status};

use crate::{auth::Auth, system_settings::SystemSettings};

#[derive(Debug, Clone)]
pub struct InternalApi {
    pub auth: Auth,
    pub settings: SystemSettings,
}

#[tonic::async_trait]
impl IdentityInternalService for InternalApi {
    async fn authenticate_session(
        &self,
        request: Request<pb::AuthenticateSessionRequest>,
    ) -> Result<Response<pb::AuthenticateSessionResponse>, Status> {
        let token = request.into_inner().token;
        if token.is_empty() || token.len() > 512 {
            return Err(
                ApiError::Unauthenticated { message: "the session token is missing or malformed".into() }.into()
            );
        }
        let session = self.auth.authenticate(&token).await?;
        Ok(Response::new(pb::AuthenticateSessionResponse {
            kind: pb::UserKind::from(session.kind()).into(),
            system_administrator: session.is_system_administrator(),
            user_id: session.user_id,
            organization_id: session.organization_id.unwrap_or_default(),
            session_id: session.id,
            expire_time: Some(to_timestamp(session.expires_at)),
        }))
    }

    async fn get_mail_settings(
        &self,
        _request: Request<pb::GetMailSettingsRequest>,
    ) -> Result<Response<pb::GetMailSettingsResponse>, Status> {
        let settings = self.settings.current().await?;
        Ok(Response::new(pb::GetMailSettingsResponse {
            ssp_registration_mailbox: settings.stored.ssp_registration_mailbox,
            public_base_url: settings.public_base_url,
        }))
    }
}
