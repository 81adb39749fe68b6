//! The gateway: the only public entry of the portal.
//!
//! It admits each call ([`admission`]: the session token authenticated, separate
//! budgets for calls with and without a login), forwards public methods to
//! the owning service with a signed caller assertion ([`proxy`]), refuses
//! internal ones ([`routing`]), and serves reflection and health for every
//! public service. With no upstream addresses configured it runs every service
//! in its own process, the all-in-one default ([`suite`]).

pub mod admission;
pub mod client_address;
pub mod demo;
pub mod proxy;
pub mod routing;
pub mod suite;

use std::future::Future;

use service_kit::{
    StartError,
    clock::Clock,
    config::PortalConfig,
    runner::{context_from_config, drain_timeout, watch_database},
    server::{self, Health, Stopping},
};
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::{admission::GatewayAdmission, proxy::Proxy, routing::RoutingTable};

/// Serves the gateway on `listener` until `stop` resolves, then drains. When `stop`
/// resolves while the in-process services are still starting, the start is abandoned
/// and the gateway ends cleanly without serving.
pub async fn serve(
    config: PortalConfig,
    clock: Clock,
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let context = context_from_config(config, clock)?;
    let table = RoutingTable::default();
    let listed = table.public_services();
    let (health, health_service) = Health::new(listed.clone()).await;
    let stopping = Stopping::on(stop);
    if context.config.is_all_in_one() {
        let Some(modules) = stopping.unless_requested(suite::start_in_process(&context)).await else {
            tracing::info!("stopped while starting");
            context.shutdown.stop(drain_timeout(&context)).await;
            return Ok(());
        };
        let modules = modules?;
        health.set_all(ServingStatus::Serving).await;
        for module in modules {
            let public = module.services.into_iter().filter(|name| listed.contains(name)).collect();
            tokio::spawn(watch_database(module.database, public, health.clone(), stopping.receiver()));
        }
    } else {
        tokio::spawn(suite::mirror_upstream_health(context.upstreams.clone(), health.clone(), stopping.receiver()));
    }
    let admission = GatewayAdmission::new(table.clone(), &context);
    let proxy = Proxy::new(table, context.upstreams.clone(), context.assertion_key.clone());
    let routes = server::add_reflection(Routes::default().add_service(health_service), &listed)?;
    let routes = Routes::from(routes.into_axum_router().fallback_service(proxy));
    let mode = if context.config.is_all_in_one() { "all-in-one" } else { "distributed" };
    tracing::info!(address = ?listener.local_addr().ok(), mode, "gateway serving");
    let served = server::serve(listener, routes, health, &context.config.server, admission, stopping.requested()).await;
    // Background work of the in-process services (outbox workers) finishes or hands back
    // what it holds before the process ends.
    context.shutdown.stop(drain_timeout(&context)).await;
    served?;
    Ok(())
}
