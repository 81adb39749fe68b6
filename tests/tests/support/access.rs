//! Helpers of the access tests: grants through the admin services, checks through
//! PermissionService, and the internal client other services use
//! (`service_kit::access::AccessClient`) for what only services may call.

#![allow(dead_code)]

use portal_proto::access::{
    AccessQuery, CheckRequest, CheckResult, ColumnAccessLevel, ColumnGrant, CreateColumnGrantRequest,
    CreateDefaultRecordRuleRequest, CreateObjectOperationGrantRequest, DecisionLevel, DefaultRecordRule,
    DefaultRecordRuleTarget, DenialReason, Effect, Grantee, ListPortalObjectsRequest, ObjectOperation,
    ObjectOperationGrant, PortalObject, RecordRight, UpdatePortalObjectRequest,
    column_grant_service_client::ColumnGrantServiceClient,
    default_record_rule_service_client::DefaultRecordRuleServiceClient, default_record_rule_target::Target,
    grantee::Subject, object_operation_grant_service_client::ObjectOperationGrantServiceClient,
    permission_service_client::PermissionServiceClient, portal_object_service_client::PortalObjectServiceClient,
};
use portal_tests::{Mode, Suite, authed};
use service_kit::{
    ServiceContext,
    access::AccessClient,
    runner,
    upstream::{self},
};

pub fn role(id: &str) -> Grantee {
    Grantee { subject: Some(Subject::RoleId(id.into())) }
}

pub fn user(id: &str) -> Grantee {
    Grantee { subject: Some(Subject::UserId(id.into())) }
}

/// Allows or denies `operation` on `object` to `grantee`.
pub async fn grant(
    suite: &Suite,
    admin: &str,
    object: &str,
    grantee: Grantee,
    operation: ObjectOperation,
    effect: Effect,
) -> ObjectOperationGrant {
    let grant = ObjectOperationGrant {
        object_code: object.into(),
        grantee: Some(grantee),
        operation: operation.into(),
        effect: effect.into(),
        ..Default::default()
    };
    let request = CreateObjectOperationGrantRequest { object_operation_grant: Some(grant), request_id: String::new() };
    ObjectOperationGrantServiceClient::new(suite.channel())
        .create_object_operation_grant(authed(request, admin))
        .await
        .expect("create the operation grant")
        .into_inner()
}

/// Sets the level of one column of `object` for `grantee`.
pub async fn column(
    suite: &Suite,
    admin: &str,
    object: &str,
    column: &str,
    grantee: Grantee,
    level: ColumnAccessLevel,
) -> ColumnGrant {
    let grant = ColumnGrant {
        object_code: object.into(),
        column_code: column.into(),
        grantee: Some(grantee),
        level: level.into(),
        ..Default::default()
    };
    ColumnGrantServiceClient::new(suite.channel())
        .create_column_grant(authed(
            CreateColumnGrantRequest { column_grant: Some(grant), request_id: String::new() },
            admin,
        ))
        .await
        .expect("create the column grant")
        .into_inner()
}

/// Turns record permissions on for portal object `object`.
pub async fn enable_record_permissions(suite: &Suite, admin: &str, object: &str) {
    let mut objects = PortalObjectServiceClient::new(suite.channel());
    let request = ListPortalObjectsRequest { code: object.into(), ..Default::default() };
    let listed = objects.list_portal_objects(authed(request, admin)).await.unwrap().into_inner();
    let found = listed.portal_objects.into_iter().next().unwrap_or_else(|| panic!("{object} is on the portal"));
    let update = UpdatePortalObjectRequest {
        portal_object: Some(PortalObject { record_permissions_enabled: true, ..found }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["record_permissions_enabled".into()] }),
    };
    objects.update_portal_object(authed(update, admin)).await.expect("enable record permissions");
}

/// A default record rule: records of `object` that `author` creates give `target` `rights`.
pub async fn default_record_rule(
    suite: &Suite,
    admin: &str,
    object: &str,
    author: Grantee,
    target: Target,
    rights: &[RecordRight],
) -> DefaultRecordRule {
    let rule = DefaultRecordRule {
        object_code: object.into(),
        author: Some(author),
        target: Some(DefaultRecordRuleTarget { target: Some(target) }),
        rights: rights.iter().map(|r| *r as i32).collect(),
        ..Default::default()
    };
    DefaultRecordRuleServiceClient::new(suite.channel())
        .create_default_record_rule(authed(
            CreateDefaultRecordRuleRequest { default_record_rule: Some(rule), request_id: String::new() },
            admin,
        ))
        .await
        .expect("create the default record rule")
        .into_inner()
}

/// Checks for `subject` as the administrator `admin` (PermissionService.Check).
pub async fn check(
    suite: &Suite,
    admin: &str,
    subject: &str,
    object: &str,
    operation: ObjectOperation,
    record: Option<&str>,
    columns: &[&str],
) -> CheckResult {
    let query = AccessQuery {
        object_code: object.into(),
        operation: operation.into(),
        record_id: record.unwrap_or_default().into(),
        column_codes: columns.iter().map(|c| c.to_string()).collect(),
    };
    PermissionServiceClient::new(suite.channel())
        .check(authed(CheckRequest { query: Some(query), subject_user_id: subject.into() }, admin))
        .await
        .expect("check")
        .into_inner()
        .result
        .expect("a result")
}

/// Asserts a denial at `level` for `reason`.
pub fn assert_denied(result: &CheckResult, level: DecisionLevel, reason: DenialReason) {
    assert!(!result.allowed, "expected a denial for {reason:?}, got {result:?}");
    assert_eq!((result.decided_level(), result.denial_reason()), (level, reason), "{result:?}");
}

/// The internal client a service of the suite would use, signed as "case".
///
/// Distributed: it reaches the suite's own access process. All-in-one: the suite's
/// services are inside the gateway's process and unreachable from outside, so identity
/// and access are started a second time in this process on the same databases (and,
/// with PostgreSQL, the same Redis, whose shared counters keep both access instances'
/// caches consistent). On SQLite the two instances keep separate in-process counters, so
/// tests change through the gateway what the gateway's access must see at once.
pub async fn internal(suite: &Suite) -> (AccessClient, ServiceContext) {
    let context = runner::context_from_config(suite.config.clone(), suite.clock.clone()).expect("context");
    if suite.mode == Mode::AllInOne {
        for spec in gateway::suite::services().into_iter().filter(|s| matches!(s.area, "identity" | "access")) {
            let module = (spec.start)(context.clone()).await.expect("start a helper instance");
            context.upstreams.set(spec.area, upstream::local(module.routes));
        }
    }
    (AccessClient::new(&context, "case"), context)
}
