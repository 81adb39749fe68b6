//! The test harness: starts the real suite in process, in either wiring and on
//! either backend, and hands out clients and logins.
//!
//! Every test runs four times through [`suite_tests!`]: all-in-one and distributed,
//! each on SQLite and on PostgreSQL + Redis. The PostgreSQL variants use
//! `PORTAL_TEST_DATABASE_URL` and `PORTAL_TEST_REDIS_URL`; when those are not set
//! they report a skip (CI sets them). Each suite gets its own temporary folder
//! and its own PostgreSQL schemas, dropped afterwards.

pub mod fixtures;

/// A real SMTP server on loopback for the email tests.
#[path = "../smtp/harness.rs"]
pub mod smtp;

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use portal_proto::identity::{LoginRequest, session_service_client::SessionServiceClient};
use service_kit::{clock::Clock, config::PortalConfig, runner, secrets};
use tokio::{net::TcpListener, sync::oneshot};
use tonic::{Request, metadata::MetadataValue, transport::Channel};

pub use service_kit::error::error_reason;

/// The administrator password every test suite starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests-1";
/// The administrator email every test suite starts with.
pub const ADMIN_EMAIL: &str = "admin@portal.test";

/// How the suite is wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AllInOne,
    Distributed,
}

/// Which database (and cache) it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running suite.
pub struct Suite {
    pub mode: Mode,
    pub backend: Backend,
    /// The gateway's address.
    pub address: SocketAddr,
    /// Each service's own address, in the distributed mode.
    pub service_addresses: HashMap<&'static str, SocketAddr>,
    /// The configuration the suite runs with (its assertion secret included).
    pub config: PortalConfig,
    pub clock: Clock,
    stops: Vec<oneshot::Sender<()>>,
    postgres_schemas: Option<(String, Vec<String>)>,
    _data_dir: tempfile::TempDir,
}

impl Suite {
    /// Starts a suite, or returns `None` (after saying why) when its backend is not available.
    pub async fn start(mode: Mode, backend: Backend) -> Option<Self> {
        Self::start_with(mode, backend, Clock::system(), |_| {}).await
    }

    /// Starts a suite on `clock` (a manual one lets a test move time), after `configure`
    /// has adjusted the configuration.
    pub async fn start_with(
        mode: Mode,
        backend: Backend,
        clock: Clock,
        configure: impl FnOnce(&mut PortalConfig),
    ) -> Option<Self> {
        let data_dir = tempfile::tempdir().expect("temporary folder");
        let mut config = PortalConfig::default();
        config.data_dir = data_dir.path().to_owned();
        config.assertion.secret = secrets::random_token(32);
        config.bootstrap.admin_email = ADMIN_EMAIL.into();
        config.bootstrap.admin_password = ADMIN_PASSWORD.into();
        config.log.filter = "warn".into();
        config.database.max_connections = 5;
        service_kit::telemetry::init(&config.log);
        let mut postgres_schemas = None;
        if backend == Backend::Postgres {
            let (Ok(database), Ok(redis)) =
                (std::env::var("PORTAL_TEST_DATABASE_URL"), std::env::var("PORTAL_TEST_REDIS_URL"))
            else {
                eprintln!(
                    "skipped: set PORTAL_TEST_DATABASE_URL and PORTAL_TEST_REDIS_URL to run on PostgreSQL + Redis"
                );
                return None;
            };
            let prefix = format!("t{}_", secrets::random_token(6).to_lowercase().replace(['-', '_'], "x"));
            config.database.url = database.clone();
            config.database.schema_prefix = prefix.clone();
            config.cache.redis_url = redis;
            let schemas = gateway::suite::services().iter().map(|s| format!("{prefix}{}", s.area)).collect();
            postgres_schemas = Some((database, schemas));
        }
        configure(&mut config);
        let mut stops = Vec::new();
        let mut service_addresses = HashMap::new();
        if mode == Mode::Distributed {
            // Every service learns every other's address before any starts (access calls
            // identity, which starts after it).
            let mut listeners = Vec::new();
            for spec in gateway::suite::services() {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let address = listener.local_addr().expect("address");
                service_addresses.insert(spec.area, address);
                let url = format!("http://{address}");
                match spec.area {
                    "identity" => config.upstreams.identity = url,
                    "access" => config.upstreams.access = url,
                    "case" => config.upstreams.case = url,
                    "partner" => config.upstreams.partner = url,
                    _ => config.upstreams.notify = url,
                }
                listeners.push((spec, listener, address));
            }
            for (spec, listener, address) in listeners {
                let mut service_config = config.clone();
                service_config.listen = address;
                let context = runner::context_from_config(service_config, clock.clone()).expect("context");
                let (stop, stopped) = oneshot::channel::<()>();
                stops.push(stop);
                tokio::spawn(async move {
                    let result = runner::serve_service(&spec, context, listener, async {
                        let _ = stopped.await;
                    })
                    .await;
                    if let Err(error) = result {
                        panic!("{} failed: {error}", spec.area);
                    }
                });
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        config.listen = address;
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        let gateway_config = config.clone();
        let gateway_clock = clock.clone();
        tokio::spawn(async move {
            let result = gateway::serve(gateway_config, gateway_clock, listener, async {
                let _ = stopped.await;
            })
            .await;
            if let Err(error) = result {
                panic!("gateway failed: {error}");
            }
        });
        let suite = Self {
            mode,
            backend,
            address,
            service_addresses,
            config,
            clock,
            stops,
            postgres_schemas,
            _data_dir: data_dir,
        };
        suite.wait_until_serving().await;
        Some(suite)
    }

    /// A channel to the gateway.
    pub fn channel(&self) -> Channel {
        Self::channel_to(self.address)
    }

    /// A channel to any address of the suite.
    pub fn channel_to(address: SocketAddr) -> Channel {
        Channel::from_shared(format!("http://{address}")).expect("uri").connect_lazy()
    }

    /// Waits (a bounded time) until the gateway reports SERVING overall, which it does once
    /// every public service is SERVING.
    /// Waits for the overall health to say SERVING. Generous: on a loaded 2-core machine,
    /// suites starting in parallel queue behind each other's migrations (PostgreSQL
    /// advisory lock), which a correct start can take tens of seconds to get through.
    async fn wait_until_serving(&self) {
        use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
        let mut health = HealthClient::new(self.channel());
        for _ in 0..1200 {
            let overall = health
                .check(HealthCheckRequest { service: String::new() })
                .await
                .map(|r| r.into_inner().status() == ServingStatus::Serving);
            if let Ok(true) = overall {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the suite did not become SERVING within 60 s");
    }

    /// Logs in and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> Result<String, tonic::Status> {
        let mut sessions = SessionServiceClient::new(self.channel());
        let response = sessions.login(LoginRequest { email: email.into(), password: password.into() }).await?;
        Ok(response.into_inner().token)
    }

    /// Logs in as the system administrator.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the administrator logs in")
    }
}

/// A request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII token");
    request.metadata_mut().insert("authorization", value);
    request
}

impl Drop for Suite {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        let Some((url, schemas)) = self.postgres_schemas.take() else {
            return;
        };
        // Dropping runs outside any async context we could block, so clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                use sqlx::{Connection, Executor};
                sqlx::any::install_default_drivers();
                if let Ok(mut connection) = sqlx::AnyConnection::connect(&url).await {
                    for schema in schemas {
                        let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                        let _ = connection.execute(sqlx::AssertSqlSafe(drop)).await;
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// For suites behind a proxy: the tests' connections from 127.0.0.1 stand for an ingress
/// (a trusted proxy), those from 127.0.0.2 for anyone else.
pub fn trust_the_loopback_proxy(config: &mut PortalConfig) {
    config.gateway.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
}

/// A Login as a proxy passes it on, with `x-forwarded-for: <chain>`.
pub fn forwarded_login(email: &str, password: &str, chain: &str) -> Request<LoginRequest> {
    let mut request = Request::new(LoginRequest { email: email.into(), password: password.into() });
    request.metadata_mut().insert("x-forwarded-for", MetadataValue::try_from(chain).expect("ASCII"));
    request
}

/// A manual clock standing at the current time, for tests that move time.
pub fn manual_clock() -> Clock {
    Clock::manual(Clock::system().now())
}

/// Runs each named `async fn(S)` four times (all-in-one and distributed, on SQLite and on
/// PostgreSQL + Redis), where `start` makes the `Option<S>` of one variant from `mode` and
/// `backend` (`None` skips it). The test files' own suites (with an SMTP server, say) use
/// this; plain suites use [`suite_tests!`].
#[macro_export]
macro_rules! suite_variants {
    (start: |$mode:ident, $backend:ident| $start:expr; threads: $threads:literal; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($mode: $crate::Mode, $backend: $crate::Backend) {
                if let Some(suite) = $start.await {
                    super::$name(suite).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn all_in_one_sqlite() { run($crate::Mode::AllInOne, $crate::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn distributed_sqlite() { run($crate::Mode::Distributed, $crate::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn all_in_one_postgres() { run($crate::Mode::AllInOne, $crate::Backend::Postgres).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn distributed_postgres() { run($crate::Mode::Distributed, $crate::Backend::Postgres).await }
        }
    )*};
}

/// Runs each named `async fn(Suite)` four times: all-in-one and distributed, on SQLite
/// and on PostgreSQL + Redis. `suite_tests!(manual_clock: …)` gives the suites a manual
/// clock (`suite.clock.advance(…)`) instead of the system one.
#[macro_export]
macro_rules! suite_tests {
    (manual_clock: $($name:ident),* $(,)?) => {
        $crate::suite_variants!(
            start: |mode, backend| $crate::Suite::start_with(mode, backend, $crate::manual_clock(), |_| {});
            threads: 2;
            $($name),*
        );
    };
    ($($name:ident),* $(,)?) => {
        $crate::suite_variants!(start: |mode, backend| $crate::Suite::start(mode, backend); threads: 2; $($name),*);
    };
}
