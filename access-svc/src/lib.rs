//! access-svc: portal objects, sections, operation/record/column permissions,
//! system operations, evaluation and its cache.
//!
//! `api` adapts gRPC to the use cases (`permissions` evaluates checks, `sharing` keeps
//! records and their grants, `admin` changes grants), which apply the rules in `domain`
//! to the rows in `storage`, with decisions cached under versioned keys by `cache`.

pub mod admin;
pub mod api;
pub mod cache;
pub mod domain;
pub mod identity;
pub mod permissions;
pub mod sharing;
pub mod storage;

use std::sync::Arc;

use portal_proto::access::{
    access_internal_service_server::AccessInternalServiceServer, permission_service_server::PermissionServiceServer,
};
use service_kit::{ServiceContext, ServiceModule, StartError, db::Database, service_routes};

pub use storage::MIGRATIONS;

use crate::{
    admin::Admin,
    api::{InternalApi, PermissionApi},
    cache::VersionedCache,
    identity::Identity,
    permissions::Permissions,
    sharing::Sharing,
    storage::Store,
};

/// The area name, used for the database and the upstream map.
pub const AREA: &str = "access";

/// Connects and migrates the database and builds the gRPC services.
pub async fn start(context: ServiceContext) -> Result<ServiceModule, StartError> {
    let database = Database::connect(&context.config, AREA, MIGRATIONS).await?;
    let store = Store::new(database.clone());
    let cache =
        Arc::new(VersionedCache::new(&context.config).map_err(|e| StartError::Other(format!("cache.redis_url: {e}")))?);
    let identity = Identity::new(context.upstreams.clone(), context.assertion_key.clone());
    let permissions = Permissions::new(store.clone(), identity.clone(), cache.clone());
    let sharing = Sharing::new(store.clone(), identity.clone(), cache.clone(), context.clock.clone());
    let admin =
        Admin { store: store.clone(), identity, permissions: permissions.clone(), cache, clock: context.clock.clone() };
    let internal = InternalApi { permissions: permissions.clone(), sharing, admin };
    let (routes, mut services) = service_routes!(context;
        PermissionServiceServer<PermissionApi>(PermissionApi { permissions }) as Public,
        AccessInternalServiceServer<InternalApi>(internal) as Internal,
    );
    let (routes, pending) = api::pending::routes(&context, routes);
    services.extend(pending);
    Ok(ServiceModule { area: AREA, routes, services, database })
}
