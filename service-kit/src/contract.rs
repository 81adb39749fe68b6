//! The contract's word on who may call a method, enforced before the method reads its
//! request: every public method carries the option `portal.common.v1.authorization`
//! (see `proto/portal/common/v1/authorization.proto`), and [`ContractGuard`] refuses a
//! caller that none of its audiences admits, on every public service of every area.
//!
//! The guard decides what can be decided from the caller alone (their kind, the system
//! administrator flag, a system operation asked of access and the organization
//! administrator flag asked of identity, on every call); the method still decides the rest (their own organization, record permissions). So a caller
//! outside the audience learns nothing from the request's validation, and a method added
//! to a contract without the option is open to system administrators only until its
//! audience is written down. An error of access is an error, never a yes.

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{Arc, LazyLock},
    task::{Context, Poll},
};

use portal_proto::{
    common::{Audience, Authorization},
    identity::{GetUserAccessProfileRequest, identity_internal_service_client::IdentityInternalServiceClient},
};
use tonic::{Status, body::Body, server::NamedService};
use tower::Service;

use crate::{ApiError, Caller, CallerKind, ServiceContext, Upstreams, access::AccessClient, assertion::AssertionKey};

/// How long identity may take to say whether a user administers an organization.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The system operation of portal user administrators.
const CAN_ADMINISTRATE_PORTAL_USERS: &str = "CanAdministratePortalUsers";

/// The rule of every method of the contracts, by request path (`/package.Service/Method`).
static RULES: LazyLock<HashMap<String, Authorization>> = LazyLock::new(|| {
    let pool = &*portal_proto::DESCRIPTOR_POOL;
    let Some(extension) = pool.get_extension_by_name("portal.common.v1.authorization") else {
        return HashMap::new();
    };
    pool.services()
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .filter_map(|method| {
            let options = method.options();
            if !options.has_extension(&extension) {
                return None;
            }
            let rule = options.get_extension(&extension).as_message()?.transcode_to::<Authorization>().ok()?;
            Some((format!("/{}/{}", method.parent_service().full_name(), method.name()), rule))
        })
        .collect()
});

/// The rule of the method at `path`; `None` for a method without one.
pub fn rule(path: &str) -> Option<&'static Authorization> {
    RULES.get(path)
}

/// What the guard asks: access for system operations, identity for organization
/// administrators.
#[derive(Clone, Debug)]
pub struct Deciders {
    access: AccessClient,
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

impl Deciders {
    pub fn new(context: &ServiceContext) -> Self {
        Self {
            access: AccessClient::new(context, "contract"),
            upstreams: context.upstreams.clone(),
            key: context.assertion_key.clone(),
        }
    }

    /// Whether the user is an active administrator of their organization (identity's word,
    /// read on every call).
    async fn administers_an_organization(&self, user_id: &str) -> Result<bool, ApiError> {
        let channel = self.upstreams.signed("identity", &self.key, "contract").ok_or_else(|| {
            ApiError::Unavailable { message: "identity is not configured (upstreams.identity)".into() }
        })?;
        let request = GetUserAccessProfileRequest { user_id: user_id.to_owned() };
        let mut client = IdentityInternalServiceClient::new(channel);
        match tokio::time::timeout(CALL_TIMEOUT, client.get_user_access_profile(request)).await {
            Ok(Ok(profile)) => {
                let profile = profile.into_inner();
                Ok(profile.active && profile.organization_administrator)
            }
            Ok(Err(status)) if status.code() == tonic::Code::NotFound => Ok(false),
            Ok(Err(status)) => Err(ApiError::Unavailable {
                message: format!(
                    "identity cannot say who administers organizations now ({}); retry shortly",
                    status.message()
                ),
            }),
            Err(_) => Err(ApiError::Unavailable { message: "identity did not answer in time; retry shortly".into() }),
        }
    }
}

/// Whether `caller` may call a method with `rule` (`None`: no rule written, system
/// administrators only), as far as the caller alone decides; `Err` when it may not.
pub async fn admit(deciders: &Deciders, rule: Option<&Authorization>, caller: &Caller) -> Result<(), ApiError> {
    let access = &deciders.access;
    if caller.system_administrator || caller.kind == CallerKind::Service {
        return Ok(());
    }
    let audiences: Vec<Audience> = rule.map(|r| r.audiences().collect()).unwrap_or_default();
    if audiences.contains(&Audience::Open) {
        return Ok(());
    }
    if caller.kind == CallerKind::Anonymous {
        return Err(ApiError::Unauthenticated {
            message: "this call needs a login: call SessionService.Login first".into(),
        });
    }
    let employee = caller.kind == CallerKind::Employee;
    for audience in &audiences {
        let admitted = match audience {
            Audience::Authenticated => true,
            Audience::Employee => employee,
            // The method checks which organization an administrator may act on.
            Audience::OrganizationAdministrator => {
                if employee {
                    access.check_system_operation(&caller.user_id, CAN_ADMINISTRATE_PORTAL_USERS).await?
                } else {
                    deciders.administers_an_organization(&caller.user_id).await?
                }
            }
            Audience::SystemOperation => {
                let operation = rule.map(|r| r.system_operation.as_str()).unwrap_or_default();
                employee && !operation.is_empty() && access.check_system_operation(&caller.user_id, operation).await?
            }
            Audience::Open | Audience::SystemAdministrator | Audience::Unspecified => false,
        };
        if admitted {
            return Ok(());
        }
    }
    Err(refusal(rule))
}

/// The refusal naming who may call instead.
fn refusal(rule: Option<&Authorization>) -> ApiError {
    let mut who = vec!["the system administrator".to_owned()];
    let mut reason = "SYSTEM_ADMINISTRATOR_REQUIRED";
    for audience in rule.map(|r| r.audiences().collect::<Vec<_>>()).unwrap_or_default() {
        match audience {
            Audience::Employee => {
                who.push("employees".into());
                reason = "EMPLOYEE_REQUIRED";
            }
            Audience::OrganizationAdministrator => {
                who.push(format!("organization administrators and employees allowed {CAN_ADMINISTRATE_PORTAL_USERS}"));
                reason = "ADMINISTRATOR_REQUIRED";
            }
            Audience::SystemOperation => {
                let operation = rule.map(|r| r.system_operation.as_str()).unwrap_or_default();
                who.push(format!("employees allowed the system operation {operation}"));
                reason = "SYSTEM_OPERATION_REQUIRED";
            }
            _ => {}
        }
    }
    ApiError::PermissionDenied {
        reason,
        message: format!("this call is only for {}; ask your administrator", who.join(", ")),
    }
}

/// A public service behind the rules of its contract. Sits inside the assertion guard,
/// which has put the verified [`Caller`] in the request's extensions.
#[derive(Clone, Debug)]
pub struct ContractGuard<S> {
    inner: S,
    deciders: Deciders,
}

impl<S> ContractGuard<S> {
    pub fn new(inner: S, context: &ServiceContext) -> Self {
        Self { inner, deciders: Deciders::new(context) }
    }
}

impl<S: NamedService> NamedService for ContractGuard<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for ContractGuard<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let deciders = self.deciders.clone();
        // The clone that was driven to readiness serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let Some(caller) = request.extensions().get::<Caller>().cloned() else {
                return Ok(Status::unauthenticated("no verified caller").into_http());
            };
            match admit(&deciders, rule(request.uri().path()), &caller).await {
                Ok(()) => inner.call(request).await,
                Err(error) => Ok(Status::from(error).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_method_has_a_rule() {
        let pool = &*portal_proto::DESCRIPTOR_POOL;
        let public = pool
            .services()
            .filter(|s| s.full_name().starts_with("portal.") && !crate::server::is_internal(s.full_name()));
        let missing: Vec<String> = public
            .flat_map(|s| s.methods().collect::<Vec<_>>())
            .filter(|m| rule(&format!("/{}/{}", m.parent_service().full_name(), m.name())).is_none())
            .map(|m| m.full_name().to_owned())
            .collect();
        assert!(missing.is_empty(), "methods without portal.common.v1.authorization: {missing:?}");
        let rule = rule("/portal.notify.v1.TemplateService/UpdateTemplate").unwrap();
        assert_eq!(rule.system_operation, "CanManageEmailTemplates");
    }
}
