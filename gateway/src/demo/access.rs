//! The demo's knowledge-base rights (portal.access.v1), seed 003's example: Boston
//! creates, reads and updates articles, Toronto only reads them, reads the ones Boston
//! users write through a default record rule, and does not see "Modified on".

use portal_proto::access::{
    ColumnAccessLevel, ColumnGrant, CreateColumnGrantRequest, CreateDefaultRecordRuleRequest,
    CreateObjectOperationGrantRequest, DefaultRecordRule, DefaultRecordRuleTarget, Effect, Grantee,
    ListPortalObjectsRequest, ObjectOperation, ObjectOperationGrant, PortalObject, RecordRight,
    UpdatePortalObjectRequest, column_grant_service_client::ColumnGrantServiceClient,
    default_record_rule_service_client::DefaultRecordRuleServiceClient, default_record_rule_target::Target,
    grantee::Subject, object_operation_grant_service_client::ObjectOperationGrantServiceClient,
    portal_object_service_client::PortalObjectServiceClient,
};

use super::{DemoError, DemoSummary, Session, Step, identity::Directory};

/// case-svc's portal object for knowledge-base articles.
const KNOWLEDGE_BASE: &str = "KnowledgeBase";
/// The "Modified on" column of an article.
const MODIFIED_ON: &str = "ModifiedOn";
/// The root roles of the two user kinds (identity's fixed ids).
const ALL_EMPLOYEES: &str = "all-employees";
const ALL_EXTERNAL_USERS: &str = "all-external-users";

fn role(id: &str) -> Grantee {
    Grantee { subject: Some(Subject::RoleId(id.into())) }
}

pub async fn load(admin: &Session, directory: &Directory, summary: &mut DemoSummary) -> Result<(), DemoError> {
    let boston = &directory.boston_role_id;
    let toronto = &directory.toronto_role_id;
    let operations = [
        ("boston-create", boston, ObjectOperation::Create),
        ("boston-read", boston, ObjectOperation::Read),
        ("boston-update", boston, ObjectOperation::Update),
        ("toronto-read", toronto, ObjectOperation::Read),
    ];
    let mut grants = ObjectOperationGrantServiceClient::new(admin.channel.clone());
    for (key, role_id, operation) in operations {
        let grant = ObjectOperationGrant {
            object_code: KNOWLEDGE_BASE.into(),
            grantee: Some(role(role_id)),
            operation: operation.into(),
            effect: Effect::Allow.into(),
            ..Default::default()
        };
        let request = CreateObjectOperationGrantRequest {
            object_operation_grant: Some(grant),
            request_id: format!("demo-kb-{key}"),
        };
        grants.create_object_operation_grant(admin.request(request)).await.step(format!("access: grant {key}"))?;
    }
    // With record permissions on, staff articles stay readable by every external user
    // through a rule of their own, and Toronto reads what Boston users write.
    let rules = [("staff-articles", ALL_EMPLOYEES, ALL_EXTERNAL_USERS), ("boston-to-toronto", boston, toronto)];
    let mut record_rules = DefaultRecordRuleServiceClient::new(admin.channel.clone());
    for (key, author, reader) in rules {
        let rule = DefaultRecordRule {
            object_code: KNOWLEDGE_BASE.into(),
            author: Some(role(author)),
            target: Some(DefaultRecordRuleTarget { target: Some(Target::Grantee(role(reader))) }),
            rights: vec![RecordRight::Read.into()],
            ..Default::default()
        };
        let request =
            CreateDefaultRecordRuleRequest { default_record_rule: Some(rule), request_id: format!("demo-kb-{key}") };
        record_rules.create_default_record_rule(admin.request(request)).await.step(format!("access: rule {key}"))?;
    }
    enable_record_permissions(admin).await?;
    let hidden = ColumnGrant {
        object_code: KNOWLEDGE_BASE.into(),
        column_code: MODIFIED_ON.into(),
        grantee: Some(role(toronto)),
        level: ColumnAccessLevel::Hidden.into(),
        ..Default::default()
    };
    let request =
        CreateColumnGrantRequest { column_grant: Some(hidden), request_id: "demo-kb-toronto-modified-on".into() };
    ColumnGrantServiceClient::new(admin.channel.clone())
        .create_column_grant(admin.request(request))
        .await
        .step("access: hide Modified on from Toronto")?;
    summary.access_rules = operations.len() + rules.len() + 1;
    Ok(())
}

async fn enable_record_permissions(admin: &Session) -> Result<(), DemoError> {
    let mut objects = PortalObjectServiceClient::new(admin.channel.clone());
    let listed = objects
        .list_portal_objects(
            admin.request(ListPortalObjectsRequest { code: KNOWLEDGE_BASE.into(), ..Default::default() }),
        )
        .await
        .step("access: look up the KnowledgeBase object")?;
    let object = listed
        .portal_objects
        .into_iter()
        .find(|o| o.code == KNOWLEDGE_BASE)
        .ok_or_else(|| DemoError::Missing("access has no KnowledgeBase portal object".into()))?;
    if object.record_permissions_enabled {
        return Ok(());
    }
    let request = UpdatePortalObjectRequest {
        portal_object: Some(PortalObject { record_permissions_enabled: true, ..object }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["record_permissions_enabled".into()] }),
    };
    objects.update_portal_object(admin.request(request)).await.step("access: record permissions on articles")?;
    Ok(())
}
