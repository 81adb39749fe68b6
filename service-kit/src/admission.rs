//! Which calls a server takes on. Every server sheds load with RESOURCE_EXHAUSTED once a
//! [`Budget`] of calls in flight is spent, rather than queueing without bound; a server
//! may split its calls into several budgets (the gateway keeps one for callers without a
//! login). A call is admitted from its headers alone, then must deliver its first message
//! by the first-message deadline ([`FirstMessage`]) before the handler sees it; the budget's
//! permit is held until the response starts.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body};
use tower::{Layer, Service};

use crate::{config::ServerConfig, first_message::FirstMessage};

/// Decides, from a call's headers, whether the server takes it on.
pub trait Admission: Clone + Send + Sync + 'static {
    /// A permit to serve `request` (the admission may attach extensions to it for the
    /// handlers), or the status to refuse it with.
    fn admit(&self, request: &mut http::Request<Body>) -> impl Future<Output = Result<Permit, Status>> + Send;

    /// How many streams one client connection may have open at once (HTTP/2
    /// SETTINGS_MAX_CONCURRENT_STREAMS); `None` leaves it unlimited.
    fn max_streams_per_connection(&self) -> Option<u32> {
        None
    }
}

/// Held while a call is served; dropping it gives the slot back to its budget.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

/// A number of calls that may be in flight at once; beyond it calls are refused with
/// RESOURCE_EXHAUSTED. As an [`Admission`], every call of the server counts against it.
#[derive(Debug, Clone)]
pub struct Budget {
    permits: Arc<Semaphore>,
    limit: usize,
    /// The setting the limit comes from, named in the refusal.
    setting: &'static str,
}

impl Budget {
    pub fn new(limit: usize, setting: &'static str) -> Self {
        Self { permits: Arc::new(Semaphore::new(limit)), limit, setting }
    }

    /// The server's own budget, `server.max_in_flight`.
    pub fn in_flight(config: &ServerConfig) -> Self {
        Self::new(config.max_in_flight, "server.max_in_flight")
    }

    /// A slot of this budget, or RESOURCE_EXHAUSTED when all are taken.
    pub fn take(&self) -> Result<Permit, Status> {
        self.permits.clone().try_acquire_owned().map(|slot| Permit { _slot: slot }).map_err(|_| {
            Status::resource_exhausted(format!(
                "the server is at its limit of {} calls in flight ({}); retry with backoff",
                self.limit, self.setting
            ))
        })
    }
}

impl Admission for Budget {
    fn admit(&self, _request: &mut http::Request<Body>) -> impl Future<Output = Result<Permit, Status>> + Send {
        std::future::ready(self.take())
    }
}

/// Admits each call, then receives its first message, then serves it.
#[derive(Clone)]
pub struct AdmissionLayer<A> {
    admission: A,
    first_message: FirstMessage,
}

impl<A> AdmissionLayer<A> {
    pub fn new(admission: A, first_message: FirstMessage) -> Self {
        Self { admission, first_message }
    }
}

impl<A: Clone, S> Layer<S> for AdmissionLayer<A> {
    type Service = Admitted<A, S>;
    fn layer(&self, inner: S) -> Self::Service {
        Admitted { inner, admission: self.admission.clone(), first_message: self.first_message.clone() }
    }
}

/// See [`AdmissionLayer`].
#[derive(Clone)]
pub struct Admitted<A, S> {
    inner: S,
    admission: A,
    first_message: FirstMessage,
}

impl<A, S> Service<http::Request<Body>> for Admitted<A, S>
where
    A: Admission,
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let deadline = self.first_message.deadline();
        let admission = self.admission.clone();
        let first_message = self.first_message.clone();
        // The clone that was driven to readiness serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let permit = match admission.admit(&mut request).await {
                Ok(permit) => permit,
                Err(status) => return Ok(status.into_http()),
            };
            let request = match first_message.receive(request, deadline).await {
                Ok(request) => request,
                Err(status) => return Ok(status.into_http()),
            };
            let response = inner.call(request).await;
            drop(permit);
            response
        })
    }
}
