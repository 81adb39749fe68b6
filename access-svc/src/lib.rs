//! access-svc: portal objects, sections, operation/record/column permissions,
//! system operations, evaluation and its cache.
//!
//! `api` adapts gRPC to the use cases (`permissions` evaluates checks, `sharing` keeps
//! records and their grants, `admin` changes grants, `catalog` the portal objects and
//! sections), which apply the rules in `domain` to the rows in `storage`, with decisions
//! cached under versioned keys by `cache`.

pub mod admin;
pub mod api;
pub mod cache;
pub mod catalog;
pub mod domain;
pub mod identity;
pub mod permissions;
pub mod sharing;
pub mod storage;

use std::sync::Arc;

use portal_proto::access::{
    access_internal_service_server::AccessInternalServiceServer, column_grant_service_server::ColumnGrantServiceServer,
    default_record_rule_service_server::DefaultRecordRuleServiceServer,
    object_operation_grant_service_server::ObjectOperationGrantServiceServer,
    permission_service_server::PermissionServiceServer, portal_object_service_server::PortalObjectServiceServer,
    portal_section_service_server::PortalSectionServiceServer, record_grant_service_server::RecordGrantServiceServer,
    role_priority_service_server::RolePriorityServiceServer,
    system_operation_service_server::SystemOperationServiceServer,
};
use service_kit::{ServiceContext, ServiceModule, StartError, db::Database, service_routes};

pub use storage::MIGRATIONS;

use crate::{
    admin::Admin,
    api::{CatalogApi, GrantsApi, InternalApi, PermissionApi},
    cache::VersionedCache,
    catalog::Catalog,
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
    let cache = VersionedCache::new(&context.config).map_err(|e| StartError::Other(format!("cache.redis_url: {e}")))?;
    let cache = Arc::new(cache);
    let identity = Identity::new(context.upstreams.clone(), context.assertion_key.clone());
    let clock = context.clock.clone();
    let permissions = Permissions::new(store.clone(), identity.clone(), cache.clone());
    let sharing = Sharing::new(store.clone(), identity.clone(), cache.clone(), clock.clone());
    let admin = Admin {
        store: store.clone(),
        identity,
        permissions: permissions.clone(),
        cache: cache.clone(),
        clock: clock.clone(),
    };
    let catalog = CatalogApi { catalog: Catalog { store, permissions: permissions.clone(), cache, clock } };
    let grants = GrantsApi { admin: admin.clone() };
    let internal = InternalApi { permissions: permissions.clone(), sharing, admin };
    let (routes, services) = service_routes!(context;
        PermissionServiceServer<PermissionApi>(PermissionApi { permissions }) as Public,
        AccessInternalServiceServer<InternalApi>(internal) as Internal,
        ObjectOperationGrantServiceServer<GrantsApi>(grants.clone()) as Public,
        ColumnGrantServiceServer<GrantsApi>(grants.clone()) as Public,
        SystemOperationServiceServer<GrantsApi>(grants.clone()) as Public,
        RolePriorityServiceServer<GrantsApi>(grants.clone()) as Public,
        DefaultRecordRuleServiceServer<GrantsApi>(grants.clone()) as Public,
        RecordGrantServiceServer<GrantsApi>(grants) as Public,
        PortalObjectServiceServer<CatalogApi>(catalog.clone()) as Public,
        PortalSectionServiceServer<CatalogApi>(catalog) as Public,
    );
    Ok(ServiceModule { area: AREA, routes, services, database })
}
