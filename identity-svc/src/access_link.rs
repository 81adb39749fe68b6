//! Identity's link to access-svc. It tells access, right after identity commits, that what
//! access evaluates about some users changed (memberships, organization, flags, activity,
//! licence), so its cache keys move on and the very next permission check sees the change;
//! and it asks access whether an employee holds the system operation
//! `CanAdministratePortalUsers`.
//!
//! The call is made before the changing request answers. When access cannot be told, the
//! request fails with UNAVAILABLE saying the change itself is saved: repeating the request
//! is safe (the changes are idempotent) and tells access again.

use std::{sync::Arc, time::Duration};

use portal_proto::access::{
    CheckSystemOperationRequest, Grantee, InvalidateMembershipsRequest, RemoveGranteeRequest,
    access_internal_service_client::AccessInternalServiceClient, grantee::Subject,
};
use service_kit::SignedUpstream;
use service_kit::{Upstreams, assertion::AssertionKey};

use crate::domain::IdentityError;

/// How long access may take to acknowledge.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts before giving up on one notice.
const ATTEMPTS: u32 = 3;

/// The link to access-svc's `InvalidateMemberships`.
#[derive(Debug, Clone)]
pub struct AccessLink {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

impl AccessLink {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { upstreams, key }
    }

    /// Tells access that these users' memberships changed.
    pub async fn users_changed(&self, user_ids: Vec<String>) -> Result<(), IdentityError> {
        if user_ids.is_empty() {
            return Ok(());
        }
        let request = InvalidateMembershipsRequest { user_ids, role_ids: Vec::new() };
        self.tell(|mut client| {
            let request = request.clone();
            async move { client.invalidate_memberships(request).await.map(drop) }
        })
        .await
    }

    /// Tells access that a user was deleted: its grants go, and its cached answers with them.
    pub async fn user_removed(&self, user_id: &str) -> Result<(), IdentityError> {
        let request =
            RemoveGranteeRequest { grantee: Some(Grantee { subject: Some(Subject::UserId(user_id.into())) }) };
        self.tell(|mut client| {
            let request = request.clone();
            async move { client.remove_grantee(request).await.map(drop) }
        })
        .await?;
        self.users_changed(vec![user_id.to_owned()]).await
    }

    /// Tells access that these roles moved in the tree (every user in them is affected).
    pub async fn roles_changed(&self, role_ids: Vec<String>) -> Result<(), IdentityError> {
        let request = InvalidateMembershipsRequest { user_ids: Vec::new(), role_ids };
        self.tell(|mut client| {
            let request = request.clone();
            async move { client.invalidate_memberships(request).await.map(drop) }
        })
        .await
    }

    /// Tells access that a role was deleted: its grants go.
    pub async fn role_removed(&self, role_id: &str) -> Result<(), IdentityError> {
        let grantee = Grantee { subject: Some(Subject::RoleId(role_id.into())) };
        let request = RemoveGranteeRequest { grantee: Some(grantee) };
        self.tell(|mut client| {
            let request = request.clone();
            async move { client.remove_grantee(request).await.map(drop) }
        })
        .await
    }

    /// Tells access that an organization was deleted: its grants go.
    pub async fn organization_removed(&self, organization_id: &str) -> Result<(), IdentityError> {
        let grantee = Grantee { subject: Some(Subject::OrganizationId(organization_id.into())) };
        let request = RemoveGranteeRequest { grantee: Some(grantee) };
        self.tell(|mut client| {
            let request = request.clone();
            async move { client.remove_grantee(request).await.map(drop) }
        })
        .await?;
        self.roles_changed(vec![organization_id.to_owned()]).await
    }

    /// Whether access grants the user the system operation `CanAdministratePortalUsers`.
    /// An error is an error, never a "yes".
    pub async fn may_administrate_portal_users(&self, user_id: &str) -> Result<bool, IdentityError> {
        let request = CheckSystemOperationRequest {
            operation_code: "CanAdministratePortalUsers".into(),
            subject_user_id: user_id.into(),
        };
        let channel = self
            .upstreams
            .signed("access", &self.key, "identity")
            .ok_or_else(|| IdentityError::AccessUnavailable("access is not configured (upstreams.access)".into()))?;
        let mut client = AccessInternalServiceClient::new(channel);
        match tokio::time::timeout(CALL_TIMEOUT, client.check_system_operation(request)).await {
            Ok(Ok(answer)) => Ok(answer.into_inner().allowed),
            Ok(Err(status)) => {
                Err(IdentityError::AccessUnavailable(format!("{:?}: {}", status.code(), status.message())))
            }
            Err(_) => Err(IdentityError::AccessUnavailable("access did not answer in time".into())),
        }
    }

    /// Makes one call, retried after short pauses, and reports what went wrong last.
    async fn tell<F, Fut>(&self, call: F) -> Result<(), IdentityError>
    where
        F: Fn(AccessInternalServiceClient<SignedUpstream>) -> Fut,
        Fut: Future<Output = Result<(), tonic::Status>>,
    {
        let mut last_problem = String::from("access is not configured (upstreams.access)");
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let Some(channel) = self.upstreams.signed("access", &self.key, "identity") else { break };
            match tokio::time::timeout(CALL_TIMEOUT, call(AccessInternalServiceClient::new(channel))).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(status)) => last_problem = format!("{:?}: {}", status.code(), status.message()),
                Err(_) => last_problem = "access did not answer in time".into(),
            }
        }
        tracing::error!(problem = %last_problem, "access-svc could not be told about a membership change");
        Err(IdentityError::AccessNotInformed(last_problem))
    }
}
