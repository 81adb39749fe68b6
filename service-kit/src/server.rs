//! Server bootstrap shared by every binary of the suite.
//!
//! A server gets: tonic-health for each service it serves, reflection (v1 and
//! v1alpha, with the google.rpc error detail and health types registered so
//! grpcurl can print them), a bound on every call's duration (a shorter client
//! deadline wins), the server's [`Admission`] of calls (load shedding with
//! RESOURCE_EXHAUSTED, per-connection stream limits) and a short deadline for each
//! request's first message, and a graceful drain on SIGTERM/SIGINT: health flips to
//! NOT_SERVING, calls in flight complete, then the process exits.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::net::TcpListener;
use tonic::{service::Routes, transport::server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    admission::{Admission, AdmissionLayer},
    config::ServerConfig,
    first_message::FirstMessage,
};

/// The fully qualified name of the health service.
pub const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// A server failed to start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// Names of every gRPC service a descriptor set defines, in order.
pub fn services_in(descriptor_set: &[u8]) -> Vec<String> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(descriptor_set).unwrap_or_default();
    set.file
        .iter()
        .flat_map(|file| {
            let package = file.package().to_owned();
            file.service.iter().map(move |service| format!("{package}.{}", service.name()))
        })
        .collect()
}

/// True for services that only the suite's own services may call.
pub fn is_internal(service: &str) -> bool {
    service.ends_with("InternalService")
}

/// Adds reflection (v1 and v1alpha) listing exactly `listed` services, able to describe
/// the portal's messages, the google.rpc error details and the health service.
pub fn add_reflection(routes: Routes, listed: &[String]) -> Result<Routes, ServeError> {
    let builder = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(portal_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(HEALTH_SERVICE)
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .with_service_name("grpc.reflection.v1alpha.ServerReflection");
        for name in listed {
            builder = builder.with_service_name(name.clone());
        }
        builder
    };
    Ok(routes.add_service(builder().build_v1()?).add_service(builder().build_v1alpha()?))
}

/// Health for a set of service names, all NOT_SERVING until [`Health::set_all`] says otherwise.
#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    names: Arc<Vec<String>>,
}

impl Health {
    /// Health reporting for `names`, plus the overall status under the empty name.
    pub async fn new(
        names: Vec<String>,
    ) -> (Self, tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>) {
        let (reporter, service) = tonic_health::server::health_reporter();
        let health = Self { reporter, names: Arc::new(names) };
        health.set_all(ServingStatus::NotServing).await;
        (health, service)
    }

    /// Sets every name, and the overall status, to `status`.
    pub async fn set_all(&self, status: ServingStatus) {
        self.reporter.set_service_status("", status).await;
        for name in self.names.iter() {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Sets one service's status.
    pub async fn set(&self, name: &str, status: ServingStatus) {
        self.reporter.set_service_status(name, status).await;
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Installs the SIGTERM and SIGINT (Ctrl-C) handlers now and returns what resolves on
/// either. A binary calls it first thing, so that a stop request that arrives while it
/// is still starting (migrations, connections) is seen instead of being lost.
pub fn termination_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// A process's stop request, seen by everything that must react to it: the start
/// (abandoned when the request comes first), the server's drain and background watchers.
#[derive(Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Watches `stop` from now on.
    pub fn on(stop: impl Future<Output = ()> + Send + 'static) -> Self {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            stop.await;
            let _ = sender.send(true);
        });
        Self(receiver)
    }

    /// Resolves once the stop is requested.
    pub async fn requested(mut self) {
        // A sender gone without a request (its runtime is ending) counts as one.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Runs `work` to its end, or drops it and answers `None` if the stop is requested first.
    pub async fn unless_requested<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            _ = self.clone().requested() => None,
        }
    }

    /// A receiver that turns `true` when the stop is requested, for watchers that poll.
    pub fn receiver(&self) -> tokio::sync::watch::Receiver<bool> {
        self.0.clone()
    }
}

/// Serves `routes` on `listener`, taking on the calls `admission` admits, until `stop`
/// resolves, then drains: health turns NOT_SERVING, new connections are refused after
/// `drain_delay_ms`, and calls in flight get up to `drain_timeout_seconds` to complete.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    health: Health,
    config: &ServerConfig,
    admission: impl Admission,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let drain_delay = Duration::from_millis(config.drain_delay_ms);
    let drain_timeout = Duration::from_secs(config.drain_timeout_seconds);
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let health_for_stop = health.clone();
    let shutdown = async move {
        stop.await;
        tracing::info!("stopping: health is NOT_SERVING, draining calls in flight");
        health_for_stop.set_all(ServingStatus::NotServing).await;
        tokio::time::sleep(drain_delay).await;
        let _ = drained_tx.send(());
    };
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = tonic::transport::Server::builder()
        .timeout(Duration::from_millis(config.request_timeout_ms))
        .max_concurrent_streams(admission.max_streams_per_connection())
        .layer(AdmissionLayer::new(admission, FirstMessage::new(config)))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        _ = async {
            let _ = drained_rx.await;
            tokio::time::sleep(drain_timeout).await;
        } => {
            tracing::warn!("calls still in flight after the drain timeout; stopping anyway");
        }
    }
    tracing::info!("stopped");
    Ok(())
}
