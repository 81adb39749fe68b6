//! The forwarding path: authenticate the session token, replace it with a signed
//! caller assertion, and pass the call, untouched otherwise, to the owning service.
//! Messages are never decoded here, so streaming calls and new fields pass through.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::HeaderValue;
use portal_proto::identity::{self as pb, identity_internal_service_client::IdentityInternalServiceClient};
use service_kit::{
    Caller, CallerKind, Upstreams,
    assertion::{AssertionKey, HEADER},
    upstream::{SignAs, Upstream, UpstreamFailure},
};
use tonic::{Status, body::Body, service::interceptor::InterceptedService, transport::server::TcpConnectInfo};
use tower::{BoxError, Service, ServiceExt};

use crate::routing::RoutingTable;

type IdentityClient = IdentityInternalServiceClient<InterceptedService<Upstream, SignAs>>;

/// The gateway's catch-all service for public methods.
#[derive(Clone)]
pub struct Proxy {
    state: Arc<ProxyState>,
}

struct ProxyState {
    table: RoutingTable,
    max_message_bytes: usize,
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
    identity: Option<IdentityClient>,
}

impl Proxy {
    pub fn new(table: RoutingTable, upstreams: Arc<Upstreams>, key: AssertionKey, max_message_bytes: usize) -> Self {
        let identity = upstreams.get("identity").map(|upstream| {
            IdentityInternalServiceClient::new(InterceptedService::new(
                upstream,
                SignAs::new(key.clone(), Caller::service("gateway")),
            ))
        });
        Self { state: Arc::new(ProxyState { table, max_message_bytes, upstreams, key, identity }) }
    }
}

impl ProxyState {
    async fn forward(&self, request: http::Request<Body>) -> Result<http::Response<Body>, Status> {
        let path = request.uri().path().to_owned();
        let route = self.table.route(&path).ok_or_else(|| {
            Status::unimplemented(format!(
                "{path} is not a public method of the portal; `grpcurl -plaintext HOST list` shows what is"
            ))
        })?;
        let upstream = self
            .upstreams
            .get(route.area)
            .ok_or_else(|| Status::unavailable(format!("the {} service is not configured", route.area)))?;
        let mut caller =
            if route.needs_login { self.authenticate(request.headers()).await? } else { Caller::anonymous() };
        caller.client_address = request
            .extensions()
            .get::<TcpConnectInfo>()
            .and_then(TcpConnectInfo::remote_addr)
            .map(|address| address.ip().to_string())
            .unwrap_or_default();
        let (mut parts, body) = request.into_parts();
        let body = refuse_oversized_first_message(body, self.max_message_bytes).await?;
        let headers = &mut parts.headers;
        // The client's token stays at the gateway; services see only the assertion.
        headers.remove(http::header::AUTHORIZATION);
        let assertion =
            HeaderValue::from_str(&self.key.sign(&caller)).map_err(|_| Status::internal("unsigned caller"))?;
        headers.insert(HEADER, assertion);
        let request = http::Request::from_parts(parts, body);
        upstream.oneshot(request).await.map_err(|error| upstream_failure(route.area, error))
    }

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

/// Reads the first gRPC frame header of the request (1 flag byte, 4 length bytes) and
/// refuses a message over the limit with RESOURCE_EXHAUSTED before anything is forwarded;
/// the bytes read are put back in front of the rest of the body.
async fn refuse_oversized_first_message(mut body: Body, limit: usize) -> Result<Body, Status> {
    use http_body_util::{BodyExt, BodyStream, StreamBody};
    use tokio_stream::StreamExt;
    let mut head: Vec<u8> = Vec::new();
    let mut trailers = None;
    while head.len() < 5 {
        match body.frame().await {
            None => break,
            Some(Err(status)) => return Err(status),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => head.extend_from_slice(&data),
                Err(frame) => {
                    trailers = Some(frame);
                    break;
                }
            },
        }
    }
    if let Some(length) = head.get(1..5) {
        let declared = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
        if declared > limit {
            return Err(Status::resource_exhausted(format!(
                "the request message is {declared} bytes; the limit is {limit} bytes (server.max_message_bytes)"
            )));
        }
    }
    let head = (!head.is_empty()).then(|| http_body::Frame::data(tonic::codegen::Bytes::from(head)));
    let replayed = tokio_stream::iter([head, trailers].into_iter().flatten().map(Ok));
    // Empty DATA frames are dropped: forwarded, they add up across the streams multiplexed
    // on one upstream connection until the service's HTTP/2 server hangs up on it
    // (GOAWAY "too_many_data_frames").
    let rest = BodyStream::new(body)
        .filter(|frame| !matches!(frame, Ok(frame) if frame.data_ref().is_some_and(|data| data.is_empty())));
    Ok(Body::new(StreamBody::new(replayed.chain(rest))))
}

fn upstream_failure(area: &str, error: UpstreamFailure) -> Status {
    match Status::from_error(Box::new(error)) {
        status if status.code() == tonic::Code::Unknown => {
            Status::unavailable(format!("the {area} service cannot be reached: {}", status.message()))
        }
        status => status,
    }
}

impl<B> Service<http::Request<B>> for Proxy
where
    B: http_body::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move {
            let request = request.map(Body::new);
            Ok(state.forward(request).await.unwrap_or_else(Status::into_http))
        })
    }
}
