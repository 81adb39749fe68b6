//! Reaching a service: over the network in the distributed mode, in process in
//! the all-in-one default. Both are the same boxed tower service, so the gateway
//! and service-to-service clients run one code path whatever the wiring.

use std::time::Duration;

use tonic::{Request, Status, body::Body, service::Interceptor, service::Routes, transport::Endpoint};
use tower::{BoxError, ServiceExt, util::BoxCloneSyncService};

use crate::assertion::{AssertionKey, Caller};

/// A service to send gRPC calls to.
pub type Upstream = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, UpstreamFailure>;

/// A call that could not reach its service (connection refused, reset, …). A concrete
/// error type (rather than a boxed one) keeps generated clients' bounds simple.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UpstreamFailure(#[source] pub BoxError);

/// An upstream address that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("upstream address '{address}': {problem}")]
pub struct UpstreamError {
    address: String,
    problem: String,
}

/// A service reached over HTTP/2 at `address` (`http://host:port`), connected lazily and
/// reconnected as needed.
pub fn remote(address: &str) -> Result<Upstream, UpstreamError> {
    let error = |problem: String| UpstreamError { address: address.to_owned(), problem };
    let endpoint = Endpoint::from_shared(address.to_owned())
        .map_err(|e| error(e.to_string()))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    let channel = endpoint.connect_lazy();
    Ok(BoxCloneSyncService::new(channel.map_err(|e| UpstreamFailure(e.into()))))
}

/// A service served by this very process.
pub fn local(routes: Routes) -> Upstream {
    let routes = routes.prepare();
    BoxCloneSyncService::new(
        tower::service_fn(move |request: http::Request<Body>| routes.clone().oneshot(request))
            .map_err(|never| match never {}),
    )
}

/// Signs every outgoing call as a given caller (a service of the suite, or the user on
/// whose behalf the gateway calls).
#[derive(Clone, Debug)]
pub struct SignAs {
    key: AssertionKey,
    caller: Caller,
}

impl SignAs {
    pub fn new(key: AssertionKey, caller: Caller) -> Self {
        Self { key, caller }
    }
}

impl Interceptor for SignAs {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.key.attach(&self.caller, &mut request);
        Ok(request)
    }
}
