//! The gRPC adapter of access-svc: proto in, validation, use case, proto out. Errors
//! are mapped to `Status` once, through `service_kit::ApiError`.

pub mod catalog;
pub mod convert;
pub mod grants;
pub mod internal;
pub mod permission;

pub use catalog::CatalogApi;
pub use grants::GrantsApi;
pub use internal::InternalApi;
pub use permission::PermissionApi;

use portal_proto::access as pb;

use crate::storage::{self, records::RecordGrantRow};

pub fn record_grant_to_proto(grant: &RecordGrantRow) -> pb::RecordGrant {
    pb::RecordGrant {
        id: grant.id.clone(),
        object_code: grant.object_code.clone(),
        record_id: grant.record_id.clone(),
        grantee: Some(convert::grantee_to_proto(&grant.grantee)),
        rights: convert::rights_to_proto(grant.rights),
        source: grant.source as i32,
        default_record_rule_id: grant.rule_id.clone(),
        etag: storage::etag(grant.version),
        create_time: convert::time(grant.created_at),
        update_time: convert::time(grant.updated_at),
    }
}
