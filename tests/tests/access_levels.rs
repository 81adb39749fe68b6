//! The four levels of the permission check, each denying on its own, and the product
//! guide's Boston/Toronto examples, through the gateway (issue 5; DESIGN.md §4; seed
//! 003 "Access permissions on the portal" to "Set up column permissions on the portal").

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{
    access::{
        ColumnAccessLevel, CreatePortalObjectRequest, CreateRolePriorityRequest, DecisionLevel,
        DeletePortalObjectRequest, DenialReason, Effect, ExplainRequest, ObjectOperation, PortalObject, RecordRight,
        RolePriority, RuleKind, UpdatePortalObjectRequest, default_record_rule_target::Target,
        explain_request::Question, permission_service_client::PermissionServiceClient,
        portal_object_service_client::PortalObjectServiceClient,
        role_priority_service_client::RolePriorityServiceClient,
    },
    identity::AccountType,
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use support_access::{
    assert_denied, check, column, default_record_rule, enable_record_permissions, grant, internal, role,
};
use tonic::Code;

suite_tests!(each_level_denies_on_its_own, boston_and_toronto_follow_the_product_guide);

/// Level 1 (portal list), 2 (operation), 3 (record) and 4 (column), each alone.
async fn each_level_denies_on_its_own(suite: Suite) {
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Acme", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &organization.id, "Boston").await;
    let (alice, _) = fixtures::member(&suite, &admin, &organization.id, "alice@acme.test", false).await;
    let (bob, _) = fixtures::member(&suite, &admin, &organization.id, "bob@acme.test", false).await;
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&alice.id]).await;
    for operation in [ObjectOperation::Create, ObjectOperation::Read, ObjectOperation::Update] {
        grant(&suite, &admin, "Widget", role(&boston.id), operation, Effect::Allow).await;
    }

    // Level 1: granted, but not in the list of objects available for portal users.
    let read = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, None, &[]).await;
    assert_denied(&read, DecisionLevel::Availability, DenialReason::ObjectNotOnPortal);
    let mut objects = PortalObjectServiceClient::new(suite.channel());
    let object = PortalObject { code: "Widget".into(), display_name: "Widgets".into(), ..Default::default() };
    let request = CreatePortalObjectRequest { portal_object: Some(object), request_id: "widget-1".into() };
    let widget = objects.create_portal_object(authed(request.clone(), &admin)).await.unwrap().into_inner();
    let again = objects.create_portal_object(authed(request, &admin)).await.unwrap().into_inner();
    assert_eq!(again.id, widget.id, "a retried create with the same request_id does not add twice");
    assert!(check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, None, &[]).await.allowed);
    let bob_reads = check(&suite, &admin, &bob.id, "Widget", ObjectOperation::Read, None, &[]).await;
    assert_denied(&bob_reads, DecisionLevel::Operation, DenialReason::OperationNotGranted);

    // Level 2: no grant, then an explicit deny.
    let delete = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Delete, None, &[]).await;
    assert_denied(&delete, DecisionLevel::Operation, DenialReason::OperationNotGranted);
    grant(&suite, &admin, "Widget", role(&boston.id), ObjectOperation::Delete, Effect::Deny).await;
    let delete = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Delete, None, &[]).await;
    assert_denied(&delete, DecisionLevel::Operation, DenialReason::OperationDenied);

    // Level 3: with record permissions on, only own or granted records.
    let update = UpdatePortalObjectRequest {
        portal_object: Some(PortalObject {
            id: widget.id.clone(),
            etag: widget.etag.clone(),
            record_permissions_enabled: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["record_permissions_enabled".into()] }),
    };
    let widget = objects.update_portal_object(authed(update.clone(), &admin)).await.unwrap().into_inner();
    let stale = objects.update_portal_object(authed(update, &admin)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "a stale etag is refused");
    let (access, _context) = internal(&suite).await;
    access.register_record("Widget", "w-bob", &bob.id, "").await.unwrap();
    access.register_record("Widget", "w-alice", &alice.id, "").await.unwrap();
    let others = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, Some("w-bob"), &[]).await;
    assert_denied(&others, DecisionLevel::Record, DenialReason::RecordNotGranted);
    let unknown = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, Some("w-nobody"), &[]).await;
    assert_denied(&unknown, DecisionLevel::Record, DenialReason::RecordNotRegistered);
    assert!(check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Update, Some("w-alice"), &[]).await.allowed);
    let required = access.require(&alice.id, "Widget", ObjectOperation::Read, Some("w-bob"), &[]).await.unwrap_err();
    assert!(
        matches!(required, service_kit::ApiError::NotFound { .. }),
        "a record out of reach does not leak: {required:?}"
    );

    // Level 4: a hidden column and a read-only one.
    column(&suite, &admin, "Widget", "Secret", role(&boston.id), ColumnAccessLevel::Hidden).await;
    column(&suite, &admin, "Widget", "Price", role(&boston.id), ColumnAccessLevel::Read).await;
    let hidden =
        check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, Some("w-alice"), &["Title", "Secret"]).await;
    assert_denied(&hidden, DecisionLevel::Column, DenialReason::ColumnHidden);
    assert_eq!(hidden.denied_column_codes, ["Secret"]);
    let read =
        check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Read, Some("w-alice"), &["Title", "Price"]).await;
    assert!(read.allowed);
    let mask = read.column_mask.unwrap();
    assert_eq!(
        (mask.other_columns(), mask.hidden_column_codes, mask.read_only_column_codes),
        (ColumnAccessLevel::Edit, vec!["Secret".to_owned()], vec!["Price".to_owned()])
    );
    let write = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Update, Some("w-alice"), &["Price"]).await;
    assert_denied(&write, DecisionLevel::Column, DenialReason::ColumnReadOnly);

    // Removing the object from the list denies at level 1 again, whatever the grants.
    objects
        .delete_portal_object(authed(DeletePortalObjectRequest { id: widget.id, etag: widget.etag }, &admin))
        .await
        .unwrap();
    let gone = check(&suite, &admin, &alice.id, "Widget", ObjectOperation::Update, Some("w-alice"), &[]).await;
    assert_denied(&gone, DecisionLevel::Availability, DenialReason::ObjectNotOnPortal);

    // A user may check themselves but not others.
    let (_, carol_token) = fixtures::member(&suite, &admin, &organization.id, "carol@acme.test", false).await;
    let own = check(&suite, &carol_token, "", "KnowledgeBase", ObjectOperation::Read, None, &[]).await;
    assert!(own.allowed, "every external user reads the knowledge base by default");
    let query = portal_proto::access::AccessQuery {
        object_code: "KnowledgeBase".into(),
        operation: ObjectOperation::Read.into(),
        ..Default::default()
    };
    let request = portal_proto::access::CheckRequest { query: Some(query), subject_user_id: alice.id.clone() };
    let refused = PermissionServiceClient::new(suite.channel()).check(authed(request, &carol_token)).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

/// Boston creates, reads and updates articles but does not delete; Toronto only reads,
/// reads Boston's articles through a default record rule and does not see "Modified
/// on"; a user in both roles gets what the priorities say.
async fn boston_and_toronto_follow_the_product_guide(suite: Suite) {
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Northwind", AccountType::Customer).await;
    let boston = fixtures::role(&suite, &admin, &organization.id, "Boston").await;
    let toronto = fixtures::role(&suite, &admin, &organization.id, "Toronto").await;
    let (bea, _) = fixtures::member(&suite, &admin, &organization.id, "bea@northwind.test", false).await;
    let (tom, _) = fixtures::member(&suite, &admin, &organization.id, "tom@northwind.test", false).await;
    let (dana, _) = fixtures::member(&suite, &admin, &organization.id, "dana@northwind.test", false).await;
    let (olga, _) = fixtures::member(&suite, &admin, &organization.id, "olga@northwind.test", false).await;
    fixtures::add_to_role(&suite, &admin, &boston.id, &[&bea.id, &dana.id]).await;
    fixtures::add_to_role(&suite, &admin, &toronto.id, &[&tom.id, &dana.id]).await;
    let kb = "KnowledgeBase";
    for operation in [ObjectOperation::Create, ObjectOperation::Read, ObjectOperation::Update] {
        grant(&suite, &admin, kb, role(&boston.id), operation, Effect::Allow).await;
    }
    grant(&suite, &admin, kb, role(&boston.id), ObjectOperation::Delete, Effect::Deny).await;
    grant(&suite, &admin, kb, role(&toronto.id), ObjectOperation::Read, Effect::Allow).await;

    for operation in [ObjectOperation::Create, ObjectOperation::Read, ObjectOperation::Update] {
        assert!(check(&suite, &admin, &bea.id, kb, operation, None, &[]).await.allowed, "Boston {operation:?}");
    }
    let delete = check(&suite, &admin, &bea.id, kb, ObjectOperation::Delete, None, &[]).await;
    assert_denied(&delete, DecisionLevel::Operation, DenialReason::OperationDenied);
    assert!(check(&suite, &admin, &tom.id, kb, ObjectOperation::Read, None, &[]).await.allowed);
    for operation in [ObjectOperation::Create, ObjectOperation::Update, ObjectOperation::Delete] {
        let result = check(&suite, &admin, &tom.id, kb, operation, None, &[]).await;
        assert_denied(&result, DecisionLevel::Operation, DenialReason::OperationNotGranted);
    }

    // Toronto reads the articles Boston users create, through a default record rule.
    enable_record_permissions(&suite, &admin, kb).await;
    let boston_to_toronto = Target::Grantee(role(&toronto.id));
    default_record_rule(&suite, &admin, kb, role(&boston.id), boston_to_toronto, &[RecordRight::Read]).await;
    let (access, _context) = internal(&suite).await;
    let registered = access.register_record(kb, "article-boston", &bea.id, "").await.unwrap();
    assert!(registered.newly_registered);
    assert_eq!(registered.record_grants.len(), 1, "the Boston rule granted Toronto");
    access.register_record(kb, "article-olga", &olga.id, "").await.unwrap();
    assert!(check(&suite, &admin, &tom.id, kb, ObjectOperation::Read, Some("article-boston"), &[]).await.allowed);
    let not_boston = check(&suite, &admin, &tom.id, kb, ObjectOperation::Read, Some("article-olga"), &[]).await;
    assert_denied(&not_boston, DecisionLevel::Record, DenialReason::RecordNotGranted);
    let again = access.register_record(kb, "article-boston", &bea.id, "").await.unwrap();
    assert!(!again.newly_registered && again.record_grants.len() == 1, "registering again is idempotent");
    let conflict = access.register_record(kb, "article-boston", &tom.id, "").await.unwrap_err();
    assert!(matches!(conflict, service_kit::ApiError::AlreadyExists { .. }));

    // "Modified on" is hidden from Toronto only.
    column(&suite, &admin, kb, "ModifiedOn", role(&toronto.id), ColumnAccessLevel::Hidden).await;
    let toronto_reads =
        check(&suite, &admin, &tom.id, kb, ObjectOperation::Read, Some("article-boston"), &["Title"]).await;
    assert!(toronto_reads.allowed);
    let mask = toronto_reads.column_mask.unwrap();
    assert_eq!(mask.hidden_column_codes, ["ModifiedOn"]);
    assert_eq!(mask.other_columns(), ColumnAccessLevel::Read, "Toronto may not change articles");
    let modified =
        check(&suite, &admin, &tom.id, kb, ObjectOperation::Read, Some("article-boston"), &["ModifiedOn"]).await;
    assert_denied(&modified, DecisionLevel::Column, DenialReason::ColumnHidden);
    let boston_reads =
        check(&suite, &admin, &bea.id, kb, ObjectOperation::Read, Some("article-boston"), &["ModifiedOn"]).await;
    assert!(boston_reads.allowed && boston_reads.column_mask.unwrap().hidden_column_codes.is_empty());

    // Dana is in both roles: Boston's deny of delete against Toronto's allow.
    let toronto_delete = grant(&suite, &admin, kb, role(&toronto.id), ObjectOperation::Delete, Effect::Allow).await;
    let tie = check(&suite, &admin, &dana.id, kb, ObjectOperation::Delete, None, &[]).await;
    assert_denied(&tie, DecisionLevel::Operation, DenialReason::OperationDenied);
    let priority = RolePriority { role: Some(role(&toronto.id)), priority: 200, ..Default::default() };
    RolePriorityServiceClient::new(suite.channel())
        .create_role_priority(authed(
            CreateRolePriorityRequest { role_priority: Some(priority), request_id: String::new() },
            &admin,
        ))
        .await
        .unwrap();
    assert!(
        check(&suite, &admin, &dana.id, kb, ObjectOperation::Delete, None, &[]).await.allowed,
        "Toronto ranks higher"
    );
    assert!(
        !check(&suite, &admin, &bea.id, kb, ObjectOperation::Delete, None, &[]).await.allowed,
        "Boston alone still may not"
    );
    let query = portal_proto::access::AccessQuery {
        object_code: kb.into(),
        operation: ObjectOperation::Delete.into(),
        ..Default::default()
    };
    let explained = PermissionServiceClient::new(suite.channel())
        .explain(authed(
            ExplainRequest { subject_user_id: dana.id.clone(), question: Some(Question::Query(query)) },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(explained.allowed);
    let operation_step = explained.steps.iter().find(|s| s.level() == DecisionLevel::Operation).unwrap();
    let decisive: Vec<_> = operation_step.rules.iter().filter(|r| r.decisive).collect();
    assert_eq!(decisive.len(), 1);
    assert_eq!(
        (decisive[0].kind(), decisive[0].rule_id.as_str(), decisive[0].effective_priority),
        (RuleKind::ObjectOperationGrant, toronto_delete.id.as_str(), 200)
    );
}
