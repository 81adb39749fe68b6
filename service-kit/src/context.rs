//! What a service receives from its host process, and what it hands back.
//!
//! A service crate exposes `start(&ServiceContext) -> ServiceModule`: it
//! connects and migrates its database, builds its gRPC services behind the
//! assertion guard, and returns them as routes. The service's own binary serves
//! those routes; the all-in-one gateway serves every service's routes in one process.

use std::sync::Arc;

use tonic::service::{Routes, interceptor::InterceptedService};

use crate::{
    assertion::{AssertionKey, Caller},
    cache::Cache,
    clock::Clock,
    config::PortalConfig,
    db::Database,
    upstream::{SignAs, Upstream},
};

/// An upstream whose calls are signed as a service of the suite.
pub type SignedUpstream = InterceptedService<Upstream, SignAs>;

/// Shared by every service of one process.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    pub config: Arc<PortalConfig>,
    pub assertion_key: AssertionKey,
    pub clock: Clock,
    pub cache: Cache,
    /// How this process reaches each area's services (in process or remote).
    pub upstreams: Arc<Upstreams>,
    /// Tells background work (outbox workers) that the process is stopping.
    pub shutdown: Shutdown,
}

/// The stop signal of a process, for the background work its services start.
///
/// A service starts its background work with [`Shutdown::spawn`]; the process, once its
/// server has drained, calls [`Shutdown::stop`], which triggers the signal and waits for
/// that work to end. A task waits on [`Shutdown::stopped`], then finishes or hands back
/// what it is doing and returns. A host that never stops it leaves such tasks running
/// until its runtime ends.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: Arc<tokio::sync::watch::Sender<bool>>,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self { sender: Arc::new(tokio::sync::watch::channel(false).0), tasks: Arc::default() }
    }
}

impl Shutdown {
    /// Asks every waiter to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// True once [`Shutdown::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once [`Shutdown::trigger`] was called.
    pub async fn stopped(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }

    /// Runs `work` in the background; [`Shutdown::stop`] waits for it to end.
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let task = tokio::spawn(work);
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(task);
    }

    /// Triggers the signal and waits up to `limit` for the work started with
    /// [`Shutdown::spawn`] to end; what is still running then is aborted. False when
    /// something had to be aborted.
    pub async fn stop(&self, limit: std::time::Duration) -> bool {
        self.trigger();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let aborts: Vec<_> = tasks.iter().map(tokio::task::JoinHandle::abort_handle).collect();
        let joined = tokio::time::timeout(limit, async {
            for task in tasks {
                let _ = task.await;
            }
        })
        .await;
        if joined.is_err() {
            tracing::warn!("background work still running after the drain timeout; stopping it");
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
        joined.is_ok()
    }
}

/// One upstream per area; in the distributed mode the ones this process does not serve
/// are remote, in the all-in-one default all are in process.
#[derive(Default)]
pub struct Upstreams {
    // Filled while an all-in-one process starts its services one after another, so a
    // service started early (notify) still reaches one started later (identity).
    entries: std::sync::RwLock<Vec<(&'static str, Upstream)>>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        f.debug_list().entries(entries.iter().map(|(area, _)| area)).finish()
    }
}

impl Upstreams {
    pub fn set(&self, area: &'static str, upstream: Upstream) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|(a, _)| *a != area);
        entries.push((area, upstream));
    }

    /// The upstream of `area` (`identity`, `access`, `case`, `partner`, `notify`).
    pub fn get(&self, area: &str) -> Option<Upstream> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.iter().find(|(a, _)| *a == area).map(|(_, u)| u.clone())
    }

    /// A channel to `area` whose calls carry an assertion of the service `service`, for
    /// a generated client: `AccessInternalServiceClient::new(upstreams.signed(…)?)`.
    pub fn signed(&self, area: &str, key: &AssertionKey, service: &str) -> Option<SignedUpstream> {
        let upstream = self.get(area)?;
        Some(InterceptedService::new(upstream, SignAs::new(key.clone(), Caller::service(service))))
    }
}

/// A started service.
pub struct ServiceModule {
    /// `identity`, `access`, `case`, `partner` or `notify`.
    pub area: &'static str,
    /// Its gRPC services, each behind the assertion guard.
    pub routes: Routes,
    /// Fully qualified names of the services in `routes`, public and internal.
    pub services: Vec<String>,
    pub database: Database,
}

/// Builds a service's generated server with the suite's message limits behind the
/// assertion guard for `audience`, then the rules of its contract
/// ([`ContractGuard`](crate::contract::ContractGuard)).
#[macro_export]
macro_rules! guarded {
    ($server:ty, $implementation:expr, $context:expr, $audience:expr) => {
        ::tonic::service::interceptor::InterceptedService::new(
            $crate::contract::ContractGuard::new(
                <$server>::new($implementation)
                    .max_decoding_message_size($context.config.server.max_message_bytes)
                    .max_encoding_message_size($context.config.server.max_message_bytes),
                &$context,
            ),
            $crate::assertion::AssertionGuard::new($context.assertion_key.clone(), $audience),
        )
    };
}

/// Builds a service crate's routes and the list of the services in them:
/// `service_routes!(context; FooServiceServer<FooApi>(foo) as Public, BarInternalServiceServer<BarApi>(bar) as Internal)`,
/// or `service_routes!(context, routes; …)` to add to existing routes.
#[macro_export]
macro_rules! service_routes {
    ($context:expr; $($rest:tt)*) => {
        $crate::service_routes!($context, ::tonic::service::Routes::default(); $($rest)*)
    };
    ($context:expr, $routes:expr; $($server:ident < $implementation_type:ty > ($implementation:expr) as $audience:ident),* $(,)?) => {{
        let routes = $routes
            $(.add_service($crate::guarded!(
                $server<$implementation_type>,
                $implementation,
                $context,
                $crate::assertion::Audience::$audience
            )))*;
        let names: Vec<String> =
            vec![$(<$server<$implementation_type> as ::tonic::server::NamedService>::NAME.to_owned()),*];
        (routes, names)
    }};
}
