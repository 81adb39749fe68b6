//! identity-svc: contacts, accounts, users, organizations, roles, licences,
//! credentials, sessions, tokens and settings.
//!
//! `api` adapts gRPC to the use cases in `auth`, which apply the rules in
//! `domain` to the rows in `storage`.

pub mod api;
pub mod auth;
pub mod domain;
pub mod storage;

use portal_proto::identity::{
    identity_internal_service_server::IdentityInternalServiceServer,
    session_service_server::SessionServiceServer,
};
use service_kit::{ServiceContext, ServiceModule, StartError, db::Database, service_routes};

pub use storage::MIGRATIONS;

use crate::{
    api::{InternalApi, SessionApi},
    auth::Auth,
    domain::{password::PasswordHasher, session::SessionPolicy},
    storage::Store,
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "identity";

/// Connects and migrates identity's database, creates the system administrator on the
/// first start, and builds identity's gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let config = &context.config;
    let database = Database::connect(config, AREA, MIGRATIONS).await?;
    let policy = SessionPolicy {
        idle_ms: config.session.idle_timeout_seconds * 1000,
        absolute_ms: config.session.absolute_timeout_seconds * 1000,
    };
    let auth = Auth::new(
        Store::new(database.clone()),
        PasswordHasher::default(),
        policy,
        context.clock.clone(),
    );
    if let Some(password) = auth
        .ensure_system_administrator(
            &config.bootstrap.admin_email,
            &config.bootstrap.admin_password,
        )
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
    {
        announce_administrator(
            &config.bootstrap.admin_email,
            &password,
            config.bootstrap.admin_password.is_empty(),
        );
    }
    let (routes, mut services) = service_routes!(context;
        SessionServiceServer<SessionApi>(SessionApi { auth: auth.clone() }) as Public,
        IdentityInternalServiceServer<InternalApi>(InternalApi { auth }) as Internal,
    );
    let (routes, pending) = api::pending::routes(&context, routes);
    services.extend(pending);
    Ok(ServiceModule {
        area: AREA,
        routes,
        services,
        database,
    })
}

/// Shows the first start's administrator login once, on standard output.
fn announce_administrator(email: &str, password: &str, generated: bool) {
    tracing::info!(%email, "created the system administrator");
    if generated {
        println!(
            "\n  System administrator created. Log in with\n    email:    {email}\n    password: {password}\n  \
             This password is shown only now; change it after logging in.\n"
        );
    }
}
