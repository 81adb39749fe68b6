//! The forwarding path: replace the session token with a signed assertion of the
//! caller that [`admission`](crate::admission) established, and pass the call, untouched
//! otherwise, to the owning service. Messages are never decoded here, so streaming calls
//! and new fields pass through; the server has already received each request's first
//! message, so a service is never left waiting on a slow client.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::HeaderValue;
use service_kit::{
    Upstreams,
    assertion::{AssertionKey, HEADER},
    upstream::UpstreamFailure,
};
use tonic::{Status, body::Body};
use tower::{BoxError, Service, ServiceExt};

use crate::{admission::AdmittedCaller, client_address::FORWARDING_HEADERS, routing::RoutingTable};

/// The gateway's catch-all service for public methods.
#[derive(Clone)]
pub struct Proxy {
    state: Arc<ProxyState>,
}

struct ProxyState {
    table: RoutingTable,
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
}

impl Proxy {
    pub fn new(table: RoutingTable, upstreams: Arc<Upstreams>, key: AssertionKey) -> Self {
        Self { state: Arc::new(ProxyState { table, upstreams, key }) }
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
        let (mut parts, body) = request.into_parts();
        let AdmittedCaller(caller) =
            parts.extensions.remove().ok_or_else(|| Status::internal("the call reached the proxy unadmitted"))?;
        let headers = &mut parts.headers;
        // The client's token and the proxies' forwarding headers stay at the gateway;
        // services see only the assertion (with the client's address resolved).
        headers.remove(http::header::AUTHORIZATION);
        for name in FORWARDING_HEADERS {
            headers.remove(name);
        }
        let assertion =
            HeaderValue::from_str(&self.key.sign(&caller)).map_err(|_| Status::internal("unsigned caller"))?;
        headers.insert(HEADER, assertion);
        let request = http::Request::from_parts(parts, body);
        upstream.oneshot(request).await.map_err(|error| upstream_failure(route.area, error))
    }
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
