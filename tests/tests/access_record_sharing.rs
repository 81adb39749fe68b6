//! Sharing a record by someone who is not an administrator (RecordGrantService, issue 5;
//! record_grants.proto): the holder of a record's DELETE right manages that record's
//! grants, gives at most the rights they hold, and an external holder shares only inside
//! their own organization; everyone else is refused.

#[path = "support/access.rs"]
mod support_access;

use portal_proto::{
    access::{
        CreateRecordGrantRequest, DecisionLevel, DeleteRecordGrantRequest, DenialReason, Effect, Grantee,
        ListRecordGrantsRequest, ObjectOperation, RecordGrant, RecordRight, UpdateRecordGrantRequest, grantee::Subject,
        record_grant_service_client::RecordGrantServiceClient,
    },
    identity::AccountType,
};
use portal_tests::{Suite, authed, error_reason, fixtures, suite_tests};
use support_access::{assert_denied, check, grant, internal, role, user};
use tonic::{Code, Status};

suite_tests!(a_record_holder_shares_within_their_rights_and_organization);

const CASE: &str = "Case";

fn share(record_id: &str, grantee: Grantee, rights: &[RecordRight]) -> CreateRecordGrantRequest {
    let grant = RecordGrant {
        object_code: CASE.into(),
        record_id: record_id.into(),
        grantee: Some(grantee),
        rights: rights.iter().map(|&right| right.into()).collect(),
        ..Default::default()
    };
    CreateRecordGrantRequest { record_grant: Some(grant), request_id: String::new() }
}

fn refused(status: Status, reason: &str) {
    assert_eq!((status.code(), error_reason(&status).as_str()), (Code::PermissionDenied, reason), "{status:?}");
}

async fn a_record_holder_shares_within_their_rights_and_organization(suite: Suite) {
    let admin = suite.admin_token().await;
    let acme = fixtures::organization(&suite, &admin, "Acme Sharing", AccountType::Customer).await;
    let globex = fixtures::organization(&suite, &admin, "Globex Sharing", AccountType::Customer).await;
    let (alice, alice_token) = fixtures::member(&suite, &admin, &acme.id, "alice@sharing.test", false).await;
    let (bob, bob_token) = fixtures::member(&suite, &admin, &acme.id, "bob@sharing.test", false).await;
    let (dave, _) = fixtures::member(&suite, &admin, &globex.id, "dave@sharing.test", false).await;
    let support = fixtures::role(&suite, &admin, &acme.id, "Support desk").await;
    let outside = fixtures::role(&suite, &admin, &globex.id, "Outside desk").await;
    // Acme's users may delete cases (external users may not by default).
    grant(&suite, &admin, CASE, role(&acme.id), ObjectOperation::Delete, Effect::Allow).await;
    let (access, _context) = internal(&suite).await;
    access.register_record(CASE, "case-of-alice", &alice.id, "").await.unwrap();
    access.register_record(CASE, "case-of-dave", &dave.id, "").await.unwrap();
    let mut grants = RecordGrantServiceClient::new(suite.channel());

    // The author holds every right on her case: she shares it inside Acme.
    let to_bob = grants
        .create_record_grant(authed(share("case-of-alice", user(&bob.id), &[RecordRight::Read]), &alice_token))
        .await
        .expect("Alice shares her case with Bob")
        .into_inner();
    let read = || check(&suite, &admin, &bob.id, CASE, ObjectOperation::Read, Some("case-of-alice"), &[]);
    assert!(read().await.allowed, "shared with Bob");
    grants
        .create_record_grant(authed(share("case-of-alice", role(&support.id), &[RecordRight::Edit]), &alice_token))
        .await
        .expect("and with a role of her organization");

    // Not outside her organization: neither its users, its roles, nor the organization.
    let organization = Grantee { subject: Some(Subject::OrganizationId(globex.id.clone())) };
    for grantee in [user(&dave.id), role(&outside.id), organization] {
        let status = grants
            .create_record_grant(authed(share("case-of-alice", grantee, &[RecordRight::Read]), &alice_token))
            .await
            .unwrap_err();
        refused(status, "GRANTEE_OUTSIDE_ORGANIZATION");
    }

    // She lists and changes her record's grants, but not everyone's.
    let list = |record_id: &str| ListRecordGrantsRequest {
        object_code: CASE.into(),
        record_id: record_id.into(),
        ..Default::default()
    };
    let listed = grants.list_record_grants(authed(list("case-of-alice"), &alice_token)).await.unwrap().into_inner();
    assert_eq!(listed.record_grants.len(), 2, "{listed:?}");
    let everything = ListRecordGrantsRequest::default();
    refused(grants.list_record_grants(authed(everything, &alice_token)).await.unwrap_err(), "ADMINISTRATOR_REQUIRED");
    let status = grants.list_record_grants(authed(list("case-of-dave"), &alice_token)).await.unwrap_err();
    refused(status, "RECORD_DELETE_RIGHT_REQUIRED");

    // Bob reads the case but does not hold its DELETE right: he manages none of its grants.
    refused(
        grants.list_record_grants(authed(list("case-of-alice"), &bob_token)).await.unwrap_err(),
        "RECORD_DELETE_RIGHT_REQUIRED",
    );
    let status = grants
        .delete_record_grant(authed(
            DeleteRecordGrantRequest { id: to_bob.id.clone(), etag: String::new() },
            &bob_token,
        ))
        .await
        .unwrap_err();
    refused(status, "RECORD_DELETE_RIGHT_REQUIRED");

    // Given READ and DELETE, Bob may share, but not EDIT, which he does not hold.
    let widened = UpdateRecordGrantRequest {
        record_grant: Some(RecordGrant {
            id: to_bob.id.clone(),
            etag: to_bob.etag.clone(),
            rights: vec![RecordRight::Read.into(), RecordRight::Delete.into()],
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["rights".into()] }),
    };
    let to_bob = grants.update_record_grant(authed(widened, &alice_token)).await.unwrap().into_inner();
    let status = grants
        .create_record_grant(authed(share("case-of-alice", role(&support.id), &[RecordRight::Edit]), &bob_token))
        .await
        .unwrap_err();
    refused(status, "RIGHTS_EXCEED_CALLER");
    let status = grants
        .update_record_grant(authed(
            UpdateRecordGrantRequest {
                record_grant: Some(RecordGrant {
                    id: to_bob.id.clone(),
                    etag: to_bob.etag.clone(),
                    rights: vec![RecordRight::Edit.into()],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["rights".into()] }),
            },
            &bob_token,
        ))
        .await
        .unwrap_err();
    refused(status, "RIGHTS_EXCEED_CALLER");

    // Alice removes Bob's grant: the very next check denies him.
    grants
        .delete_record_grant(authed(DeleteRecordGrantRequest { id: to_bob.id, etag: to_bob.etag }, &alice_token))
        .await
        .expect("the author removes a grant of her record");
    assert_denied(&read().await, DecisionLevel::Record, DenialReason::RecordNotGranted);
}
