//! The `main` of every service binary: `serve` (the default) or `migrate`.

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, Subcommand};
use tonic_health::ServingStatus;

use crate::{
    ServiceContext, ServiceModule, Upstreams,
    admission::Budget,
    assertion::AssertionKey,
    cache::{Cache, CacheError},
    clock::Clock,
    config::{ConfigError, PortalConfig},
    db::{Database, DbError, Migrations},
    server::{self, Health, ServeError, Stopping},
    upstream::{self, UpstreamError},
};

/// A boxed future, as service start functions return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Why a process could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("{0}")]
    Other(String),
}

/// How one service of the suite starts.
#[derive(Clone, Copy)]
pub struct ServiceSpec {
    /// `identity`, `access`, `case`, `partner` or `notify`.
    pub area: &'static str,
    /// The port it listens on when `listen` is not configured.
    pub default_port: u16,
    pub migrations: Migrations,
    pub start: fn(ServiceContext) -> BoxFuture<'static, Result<ServiceModule, StartError>>,
}

#[derive(Parser)]
#[command(about = "A service of the portal suite (distributed mode).")]
struct Cli {
    /// A TOML configuration file (default: ./portal.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the service's gRPC API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
}

/// Builds what every service of a process shares: the signing key, the cache, and
/// the remote upstreams named in the configuration.
pub fn context_from_config(config: PortalConfig, clock: Clock) -> Result<ServiceContext, StartError> {
    let assertion_key = AssertionKey::from_config(&config.assertion);
    let cache = Cache::new(&config.cache)?;
    let upstreams = Upstreams::default();
    let u = &config.upstreams;
    for (area, address) in [
        ("identity", &u.identity),
        ("access", &u.access),
        ("case", &u.case),
        ("partner", &u.partner),
        ("notify", &u.notify),
    ] {
        if !address.is_empty() {
            upstreams.set(area, upstream::remote(address)?);
        }
    }
    Ok(ServiceContext {
        config: Arc::new(config),
        assertion_key,
        clock,
        cache,
        upstreams: Arc::new(upstreams),
        shutdown: crate::context::Shutdown::default(),
    })
}

/// Runs one service binary to completion.
pub async fn run(spec: ServiceSpec) -> ExitCode {
    match run_inner(spec).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(spec: ServiceSpec) -> Result<(), StartError> {
    let stop = server::termination_signal().map_err(ServeError::from)?;
    let cli = Cli::parse();
    let defaults = PortalConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], spec.default_port)),
        ..PortalConfig::default()
    };
    let config = PortalConfig::load_with(defaults, cli.config.as_deref())?;
    crate::telemetry::init(&config.log);
    if let Some(Command::Migrate) = cli.command {
        let migrating = Database::connect(&config, spec.area, spec.migrations);
        // Stopped half-way is a failure, so that a migration Job is run again.
        Stopping::on(stop)
            .unless_requested(migrating)
            .await
            .ok_or_else(|| StartError::Other("stopped before the migrations were applied".into()))??;
        tracing::info!(area = spec.area, "migrations applied");
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(ServeError::from)?;
    let context = context_from_config(config, Clock::system())?;
    serve_service(&spec, context, listener, stop).await
}

/// Starts one service and serves it on `listener` until `stop` resolves, then drains.
/// When `stop` resolves while the service is still starting, the start is abandoned and
/// the process ends cleanly without serving.
pub async fn serve_service(
    spec: &ServiceSpec,
    context: ServiceContext,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let stopping = Stopping::on(stop);
    let Some(module) = stopping.unless_requested((spec.start)(context.clone())).await else {
        tracing::info!(area = spec.area, "stopped while starting");
        context.shutdown.stop(drain_timeout(&context)).await;
        return Ok(());
    };
    let module = module?;
    let (health, health_service) = Health::new(module.services.clone()).await;
    let routes = server::add_reflection(module.routes.add_service(health_service), &module.services)?;
    health.set_all(ServingStatus::Serving).await;
    tracing::info!(area = spec.area, address = ?listener.local_addr().ok(), "serving");
    tokio::spawn(watch_database(module.database.clone(), module.services.clone(), health.clone(), stopping.receiver()));
    let config = &context.config.server;
    let served = server::serve(listener, routes, health, config, Budget::in_flight(config), stopping.requested()).await;
    // Background work (outbox workers) finishes or hands back what it holds before the process ends.
    context.shutdown.stop(drain_timeout(&context)).await;
    served?;
    Ok(())
}

/// How long background work may take to stop once the server has drained.
pub fn drain_timeout(context: &ServiceContext) -> Duration {
    Duration::from_secs(context.config.server.drain_timeout_seconds)
}

/// Reports `services` NOT_SERVING while their database does not answer, until the process stops.
pub async fn watch_database(
    database: Database,
    services: Vec<String>,
    health: Health,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut serving = true;
    loop {
        tokio::select! {
            _ = stopping.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let reachable = database.is_reachable().await;
        if reachable != serving && !*stopping.borrow() {
            serving = reachable;
            let status = if reachable { ServingStatus::Serving } else { ServingStatus::NotServing };
            tracing::warn!(reachable, "database reachability changed");
            for name in &services {
                health.set(name, status).await;
            }
        }
    }
}
