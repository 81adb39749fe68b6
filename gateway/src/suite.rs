//! The two wirings of the gateway: every service in this process (the all-in-one
//! default), or remote services whose health the gateway mirrors (distributed).

use std::{sync::Arc, time::Duration};

use service_kit::{
    ServiceContext, ServiceModule, ServiceSpec, StartError, Upstreams,
    server::Health,
    upstream::{self, Upstream},
};
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_check_response, health_client::HealthClient},
};

/// Every service of the suite, in start order: a service may call those started before it.
pub fn services() -> [ServiceSpec; 5] {
    [
        ServiceSpec {
            area: notify_svc::AREA,
            default_port: 50065,
            migrations: notify_svc::MIGRATIONS,
            start: |c| Box::pin(notify_svc::start(c)),
        },
        ServiceSpec {
            area: access_svc::AREA,
            default_port: 50062,
            migrations: access_svc::MIGRATIONS,
            start: |c| Box::pin(access_svc::start(c)),
        },
        ServiceSpec {
            area: identity_svc::AREA,
            default_port: 50061,
            migrations: identity_svc::MIGRATIONS,
            start: |c| Box::pin(identity_svc::start(c)),
        },
        ServiceSpec {
            area: case_svc::AREA,
            default_port: 50063,
            migrations: case_svc::MIGRATIONS,
            start: |c| Box::pin(case_svc::start(c)),
        },
        ServiceSpec {
            area: partner_svc::AREA,
            default_port: 50064,
            migrations: partner_svc::MIGRATIONS,
            start: |c| Box::pin(partner_svc::start(c)),
        },
    ]
}

/// Starts every service in this process; each becomes reachable through the shared
/// `context.upstreams` as soon as it has started.
pub async fn start_in_process(context: &ServiceContext) -> Result<Vec<ServiceModule>, StartError> {
    let mut modules = Vec::new();
    for spec in services() {
        let module = (spec.start)(context.clone()).await?;
        context.upstreams.set(spec.area, upstream::local(module.routes.clone()));
        modules.push(module);
    }
    Ok(modules)
}

/// The area a fully qualified service name belongs to (`portal.<area>.v1.X`).
fn area_of(service: &str) -> Option<&str> {
    service.strip_prefix("portal.")?.split('.').next()
}

/// Keeps the gateway's health for each public service equal to the owning service's own
/// report, and the overall status SERVING only while every one of them is, until the
/// gateway starts draining.
pub async fn mirror_upstream_health(
    upstreams: Arc<Upstreams>,
    health: Health,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let mut all_serving = true;
        for name in health.names() {
            let status = match area_of(name).and_then(|area| upstreams.get(area)) {
                Some(upstream) => upstream_status(upstream, name).await,
                None => ServingStatus::NotServing,
            };
            if *stopping.borrow() {
                return;
            }
            all_serving &= status == ServingStatus::Serving;
            health.set(name, status).await;
        }
        let overall = if all_serving { ServingStatus::Serving } else { ServingStatus::NotServing };
        health.set("", overall).await;
        tokio::select! {
            _ = stopping.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

async fn upstream_status(upstream: Upstream, service: &str) -> ServingStatus {
    let mut client = HealthClient::new(upstream);
    let check = client.check(HealthCheckRequest { service: service.to_owned() });
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(Ok(response)) if response.get_ref().status() == health_check_response::ServingStatus::Serving => {
            ServingStatus::Serving
        }
        _ => ServingStatus::NotServing,
    }
}
