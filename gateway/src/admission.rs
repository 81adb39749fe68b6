//! Which calls the gateway takes on, and who makes them. A call to a method that needs
//! a login is authenticated from its headers first and only then counts against the
//! logged-in users' budget (`server.max_in_flight`); every other call (the login-free
//! methods, health, reflection, unknown paths) counts against a budget of its own
//! (`gateway.max_in_flight_without_login`). So callers without an account, however
//! slowly they send, never hold the slots of logged-in traffic; each connection may
//! open `gateway.max_streams_per_connection` streams at once. The caller's address is
//! the connection's peer, or the client a trusted proxy names ([`crate::client_address`]).

use std::{future::Future, sync::Arc};

use portal_proto::identity::{self as pb, identity_internal_service_client::IdentityInternalServiceClient};
use service_kit::{
    Caller, CallerKind, ServiceContext,
    admission::{Admission, Budget, Permit},
    upstream::{SignAs, Upstream},
};
use tonic::{Status, body::Body, service::interceptor::InterceptedService, transport::server::TcpConnectInfo};

use crate::{client_address::ClientAddresses, routing::RoutingTable};

type IdentityClient = IdentityInternalServiceClient<InterceptedService<Upstream, SignAs>>;

/// The caller the gateway established for an admitted call, for the proxy to sign.
#[derive(Debug, Clone)]
pub struct AdmittedCaller(pub Caller);

/// The gateway's [`Admission`]: authentication, then one of two budgets.
#[derive(Clone)]
pub struct GatewayAdmission {
    state: Arc<AdmissionState>,
}

struct AdmissionState {
    table: RoutingTable,
    identity: Option<IdentityClient>,
    client_addresses: ClientAddresses,
    logged_in: Budget,
    without_login: Budget,
    max_streams_per_connection: u32,
}

impl GatewayAdmission {
    pub fn new(table: RoutingTable, context: &ServiceContext) -> Self {
        let config = &context.config;
        let identity = context.upstreams.signed("identity", &context.assertion_key, "gateway");
        Self {
            state: Arc::new(AdmissionState {
                table,
                identity: identity.map(IdentityInternalServiceClient::new),
                client_addresses: ClientAddresses::new(&config.gateway),
                logged_in: Budget::in_flight(&config.server),
                without_login: Budget::new(
                    config.gateway.max_in_flight_without_login,
                    "gateway.max_in_flight_without_login",
                ),
                max_streams_per_connection: config.gateway.max_streams_per_connection,
            }),
        }
    }
}

impl Admission for GatewayAdmission {
    fn admit(&self, request: &mut http::Request<Body>) -> impl Future<Output = Result<Permit, Status>> + Send {
        let state = self.state.clone();
        async move {
            let needs_login = state.table.route(request.uri().path()).is_some_and(|route| route.needs_login);
            let mut caller =
                if needs_login { state.authenticate(request.headers()).await? } else { Caller::anonymous() };
            caller.client_address = request
                .extensions()
                .get::<TcpConnectInfo>()
                .and_then(TcpConnectInfo::remote_addr)
                .map(|peer| state.client_addresses.client_of(peer.ip(), request.headers()).to_string())
                .unwrap_or_default();
            let permit = if needs_login { state.logged_in.take()? } else { state.without_login.take()? };
            request.extensions_mut().insert(AdmittedCaller(caller));
            Ok(permit)
        }
    }

    fn max_streams_per_connection(&self) -> Option<u32> {
        Some(self.state.max_streams_per_connection)
    }
}

impl AdmissionState {
    /// The caller behind `authorization: Bearer <token>`.
    async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, Status> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Status::unauthenticated("this call needs a login: send `authorization: Bearer <token>` from Login")
            })?;
        let mut identity =
            self.identity.clone().ok_or_else(|| Status::unavailable("the identity service is not configured"))?;
        let session = identity
            .authenticate_session(pb::AuthenticateSessionRequest { token: token.to_owned() })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::Unauthenticated => Status::unauthenticated(status.message()),
                _ => Status::unavailable(format!("cannot check the session now: {}", status.message())),
            })?
            .into_inner();
        let kind = match session.kind() {
            pb::UserKind::Employee => CallerKind::Employee,
            _ => CallerKind::External,
        };
        Ok(Caller {
            kind,
            user_id: session.user_id,
            organization_id: session.organization_id,
            session_id: session.session_id,
            system_administrator: session.system_administrator,
            ..Caller::anonymous()
        })
    }
}
