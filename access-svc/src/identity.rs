//! What access asks identity: a user's access profile (kind, activity, administrator
//! flag, organization, every role nearest first) and whether a grantee exists. Called
//! through `context.upstreams` (in process in the all-in-one mode, remote otherwise),
//! signed as the access service.

use std::sync::Arc;

use portal_proto::identity::{
    BatchGetRoleAncestryRequest, GetUserAccessProfileRequest, UserKind,
    identity_internal_service_client::IdentityInternalServiceClient,
};
use service_kit::{Caller, Upstreams, assertion::AssertionKey, upstream::SignAs};
use tonic::{Code, service::interceptor::InterceptedService};

use crate::domain::{AccessError, Grantee, GranteeKind, Subject};

/// How long identity may take to answer before the check fails with UNAVAILABLE.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The identity client of access.
#[derive(Clone, Debug)]
pub struct Identity {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

type Client = IdentityInternalServiceClient<InterceptedService<service_kit::upstream::Upstream, SignAs>>;

fn unavailable(status: &tonic::Status) -> AccessError {
    AccessError::Unavailable(format!("identity could not be asked: {:?} {}", status.code(), status.message()))
}

impl Identity {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { upstreams, key }
    }

    fn client(&self) -> Result<Client, AccessError> {
        let upstream = self
            .upstreams
            .get("identity")
            .ok_or_else(|| AccessError::Unavailable("identity is not configured (upstreams.identity)".into()))?;
        Ok(IdentityInternalServiceClient::with_interceptor(
            upstream,
            SignAs::new(self.key.clone(), Caller::service("access")),
        ))
    }

    /// The user as a check sees them; an unknown user is inactive (denied everything).
    pub async fn subject(&self, user_id: &str) -> Result<Subject, AccessError> {
        let request = GetUserAccessProfileRequest { user_id: user_id.to_owned() };
        let mut client = self.client()?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, client.get_user_access_profile(request))
            .await
            .map_err(|_| AccessError::Unavailable("identity did not answer in time".into()))?;
        match answer {
            Ok(profile) => {
                let profile = profile.into_inner();
                Ok(Subject {
                    user_id: user_id.to_owned(),
                    external: profile.kind() != UserKind::Employee,
                    active: profile.active,
                    system_administrator: profile.system_administrator,
                    organization_id: profile.organization_id,
                    role_ids: profile.roles.into_iter().map(|role| role.role_id).collect(),
                })
            }
            Err(status) if status.code() == Code::NotFound => Ok(Subject::unknown(user_id)),
            Err(status) => Err(unavailable(&status)),
        }
    }

    /// NOT_FOUND unless the user, role or organization exists.
    pub async fn require_grantee(&self, grantee: &Grantee) -> Result<(), AccessError> {
        self.grantee_organization(grantee).await.map(|_| ())
    }

    /// The organization a grantee belongs to (empty for employees and roles of no
    /// organization); NOT_FOUND unless the user, role or organization exists.
    pub async fn grantee_organization(&self, grantee: &Grantee) -> Result<String, AccessError> {
        let organization = match grantee.kind {
            GranteeKind::User => self.user_organization(&grantee.id).await?,
            GranteeKind::Role | GranteeKind::Organization => {
                let request = BatchGetRoleAncestryRequest { role_ids: vec![grantee.id.clone()] };
                let mut client = self.client()?;
                let answer = tokio::time::timeout(CALL_TIMEOUT, client.batch_get_role_ancestry(request))
                    .await
                    .map_err(|_| AccessError::Unavailable("identity did not answer in time".into()))?
                    .map_err(|status| unavailable(&status))?
                    .into_inner();
                // An organization is its role: identity gives it the organization's id.
                answer.roles.into_iter().find(|role| role.role_id == grantee.id).map(|role| {
                    if grantee.kind == GranteeKind::Organization { grantee.id.clone() } else { role.organization_id }
                })
            }
        };
        organization.ok_or_else(|| AccessError::NotFound(grantee.kind.as_str(), grantee.id.clone()))
    }

    /// The user's organization (empty for employees); `None` when identity does not know
    /// the user (deactivated users are known).
    async fn user_organization(&self, user_id: &str) -> Result<Option<String>, AccessError> {
        let mut client = self.client()?;
        let request = GetUserAccessProfileRequest { user_id: user_id.to_owned() };
        match tokio::time::timeout(CALL_TIMEOUT, client.get_user_access_profile(request)).await {
            Ok(Ok(profile)) => Ok(Some(profile.into_inner().organization_id)),
            Ok(Err(status)) if status.code() == Code::NotFound => Ok(None),
            Ok(Err(status)) => Err(unavailable(&status)),
            Err(_) => Err(AccessError::Unavailable("identity did not answer in time".into())),
        }
    }
}
