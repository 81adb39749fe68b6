//! Who the caller is to the partner program, and what it may reach: the one place
//! partner-svc decides access.
//!
//! Employees are staff: they see and change every partner's records. External users
//! act for their partner only when they hold the functional role "Partner portal
//! users" and belong to a partner organization (under "Partners"); any other external
//! user is refused with PERMISSION_DENIED. Facts about users, organizations and
//! accounts come from identity's internal service.

use std::sync::Arc;

use portal_proto::identity::{
    self as idpb, AccountType, WellKnownRole, identity_internal_service_client::IdentityInternalServiceClient,
};
use service_kit::{Caller, CallerKind, Upstreams, assertion::AssertionKey, context::SignedUpstream};
use tonic::Code;

use crate::{domain::PartnerError, storage::Scope};

/// A caller acting on the partner program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An employee.
    Staff { user_id: String },
    /// A user of a partner organization holding "Partner portal users".
    Partner(PartnerUser),
}

/// A partner user and the partner it acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUser {
    pub user_id: String,
    pub organization_id: String,
    pub account_id: String,
}

impl Actor {
    pub fn user_id(&self) -> &str {
        match self {
            Actor::Staff { user_id } => user_id,
            Actor::Partner(partner) => &partner.user_id,
        }
    }

    /// The partners' records this actor may reach.
    pub fn scope(&self) -> Scope {
        match self {
            Actor::Staff { .. } => Scope::All,
            Actor::Partner(partner) => Scope::Partner(partner.account_id.clone()),
        }
    }

    /// Whether the actor may reach records of `partner_account_id`.
    pub fn reaches(&self, partner_account_id: &str) -> bool {
        match self {
            Actor::Staff { .. } => true,
            Actor::Partner(partner) => partner.account_id == partner_account_id,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Actor::Staff { .. })
    }
}

/// A partner company: an identity account of type Partner bound to an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerAccount {
    pub account_id: String,
    pub organization_id: String,
    pub name: String,
}

type IdentityClient = IdentityInternalServiceClient<SignedUpstream>;

/// Answers who a caller is, through identity.
#[derive(Clone)]
pub struct Authority {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

fn upstream_error(what: &str, status: tonic::Status) -> PartnerError {
    PartnerError::Upstream(format!(
        "identity could not {what} ({}: {}); retry shortly",
        status.code(),
        status.message()
    ))
}

impl Authority {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { upstreams, key }
    }

    fn identity(&self) -> Result<IdentityClient, PartnerError> {
        let upstream = self
            .upstreams
            .signed("identity", &self.key, "partner")
            .ok_or_else(|| PartnerError::Upstream("identity is not configured (upstreams.identity)".into()))?;
        Ok(IdentityInternalServiceClient::new(upstream))
    }

    /// The caller as an actor on the partner program: staff, or a partner user with the
    /// role; PERMISSION_DENIED for anyone else.
    pub async fn actor(&self, caller: &Caller) -> Result<Actor, PartnerError> {
        match caller.kind {
            CallerKind::Employee => Ok(Actor::Staff { user_id: caller.user_id.clone() }),
            CallerKind::External => self.partner_user(caller).await.map(Actor::Partner),
            _ => Err(PartnerError::Denied("NOT_ALLOWED", "this call needs a logged-in user".into())),
        }
    }

    /// The caller as staff; PERMISSION_DENIED for external users.
    pub async fn staff(&self, caller: &Caller) -> Result<Actor, PartnerError> {
        match self.actor(caller).await? {
            staff @ Actor::Staff { .. } => Ok(staff),
            Actor::Partner(_) => {
                Err(PartnerError::Denied("NOT_ALLOWED", "only staff may change this; partner users may read it".into()))
            }
        }
    }

    async fn partner_user(&self, caller: &Caller) -> Result<PartnerUser, PartnerError> {
        let denied = || {
            PartnerError::Denied(
                "PARTNER_PORTAL_ROLE_REQUIRED",
                "the partner program is for users of a partner organization with the role \"Partner portal users\"; \
                 ask your organization's administrator"
                    .into(),
            )
        };
        let mut identity = self.identity()?;
        let profile = identity
            .get_user_access_profile(idpb::GetUserAccessProfileRequest { user_id: caller.user_id.clone() })
            .await
            .map_err(|status| match status.code() {
                Code::NotFound => denied(),
                _ => upstream_error("read the caller's roles", status),
            })?
            .into_inner();
        let has_role = profile.roles.iter().any(|r| r.well_known() == WellKnownRole::PartnerPortalUsers);
        if !profile.active || !has_role || profile.organization_id.is_empty() {
            return Err(denied());
        }
        let organizations = identity
            .batch_get_organizations(idpb::BatchGetOrganizationsRequest {
                organization_ids: vec![profile.organization_id.clone()],
            })
            .await
            .map_err(|status| upstream_error("read the caller's organization", status))?
            .into_inner();
        let organization = organizations.organizations.into_iter().next().filter(|o| o.partner).ok_or_else(denied)?;
        Ok(PartnerUser {
            user_id: caller.user_id.clone(),
            organization_id: organization.organization_id,
            account_id: organization.account_id,
        })
    }

    /// A partner account: NOT_FOUND when unknown, FAILED_PRECONDITION
    /// ACCOUNT_NOT_PARTNER when not of type Partner or bound to no organization.
    pub async fn partner_account(&self, account_id: &str) -> Result<PartnerAccount, PartnerError> {
        let accounts = self
            .identity()?
            .batch_get_accounts(idpb::BatchGetAccountsRequest { account_ids: vec![account_id.to_owned()] })
            .await
            .map_err(|status| upstream_error("read the partner account", status))?
            .into_inner();
        let account = accounts
            .accounts
            .into_iter()
            .find(|a| a.account_id == account_id)
            .ok_or_else(|| PartnerError::NotFound("account", account_id.to_owned()))?;
        if account.r#type() != AccountType::Partner || account.organization_id.is_empty() {
            return Err(PartnerError::Refused(
                "ACCOUNT_NOT_PARTNER",
                format!(
                    "account '{account_id}' is not a partner bound to a portal organization; make it a partner \
                     account and create its organization under \"Partners\" first"
                ),
            ));
        }
        Ok(PartnerAccount {
            account_id: account.account_id,
            organization_id: account.organization_id,
            name: account.name,
        })
    }
}
