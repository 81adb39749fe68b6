//! notify-svc: email templates, localisation, the outbox and SMTP delivery.
//!
//! `api` adapts gRPC to the use cases in `templates` and `outbox`, which apply the
//! rules in `domain` to the rows in `storage`; `worker` delivers the outbox.

pub mod api;
pub mod domain;
pub mod outbox;
pub mod storage;
pub mod templates;
pub mod worker;

use std::sync::Arc;

use portal_proto::notify::{
    delivery_service_server::DeliveryServiceServer, email_audit_service_server::EmailAuditServiceServer,
    notify_internal_service_server::NotifyInternalServiceServer, template_service_server::TemplateServiceServer,
};
use service_kit::{
    ServiceContext, ServiceModule, StartError, access::AccessClient, config::PortalConfig, db::Database, service_routes,
};

pub use storage::MIGRATIONS;

use crate::{
    api::{AuditApi, DeliveryApi, InternalApi, TemplateApi},
    outbox::Outbox,
    storage::Store,
    templates::Templates,
    worker::{SenderAddress, Transport, Worker},
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "notify";

/// The domain of Message-IDs: configured, or the host of the public base URL.
fn message_id_domain(config: &PortalConfig) -> String {
    if !config.mail.message_id_domain.trim().is_empty() {
        return config.mail.message_id_domain.trim().to_owned();
    }
    config
        .public_base_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split(['/', ':', '?', '#']).next())
        .filter(|host| !host.is_empty())
        .unwrap_or("portal.local")
        .to_owned()
}

/// Connects and migrates notify's database, adds the shipped templates once, starts
/// the delivery worker (until `context.shutdown`), and builds notify's gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let config = &context.config;
    let database = Database::connect(config, AREA, MIGRATIONS).await?;
    let store = Store::new(database.clone());
    let added = store
        .seed_templates(&domain::defaults::all(), context.clock.now())
        .await
        .map_err(|e| StartError::Other(format!("seeding the shipped templates: {e}")))?;
    if added > 0 {
        tracing::info!(added, "shipped email templates added");
    }
    let domain = message_id_domain(config);
    let transport = Transport::from_config(config, &domain).map_err(StartError::Other)?;
    let templates = Templates::new(store.clone(), context.clock.clone(), &config.public_base_url);
    let queued = Arc::new(tokio::sync::Notify::new());
    let outbox = Outbox::new(store.clone(), templates.clone(), context.clock.clone(), domain, queued.clone());
    let audit_store = store.clone();
    let worker = Worker::new(
        store,
        transport,
        SenderAddress::new(
            context.upstreams.clone(),
            context.assertion_key.clone(),
            config.mail.from_address.clone(),
            context.clock.clone(),
        ),
        context.clock.clone(),
        &config.mail,
    );
    context.shutdown.spawn(worker.run(queued, context.shutdown.clone()));
    let access = AccessClient::new(&context, AREA);
    let (routes, services) = service_routes!(context;
        DeliveryServiceServer<DeliveryApi>(DeliveryApi { access: access.clone(), outbox: outbox.clone() }) as Public,
        EmailAuditServiceServer<AuditApi>(AuditApi { access: access.clone(), store: audit_store }) as Public,
        NotifyInternalServiceServer<InternalApi>(InternalApi { outbox, templates: templates.clone() }) as Internal,
        TemplateServiceServer<TemplateApi>(TemplateApi { access, templates }) as Public,
    );
    Ok(ServiceModule { area: AREA, routes, services, database })
}
