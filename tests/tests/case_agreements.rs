//! Agreement selection through the gateway (issue 6; seed 003 "Working with the portal
//! Cases", seed 000's service agreements): the contact's agreement beats the
//! department's, which beats the account's, which beats the default; two at the top tie, leave the case's agreement empty and
//! are offered as candidates, one of which the user then chooses.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    AgreementMatch, Case, SelectServiceAgreementRequest, SlaClockState, UpdateCaseRequest,
    service_agreement::ServiceObject,
};
use portal_proto::identity::{
    Contact, CreateDepartmentRequest, Department, UpdateContactRequest, account_service_client::AccountServiceClient,
    contact_service_client::ContactServiceClient,
};
use portal_tests::{Suite, authed, suite_tests};
use support_case::*;
use tonic::Code;

suite_tests!(contact_beats_department_beats_account_beats_default_and_ties_are_left_to_the_user);

async fn select(suite: &Suite, token: &str, service_id: &str) -> (AgreementMatch, String, Vec<String>) {
    let request = SelectServiceAgreementRequest { contact_id: String::new(), service_item_id: service_id.into() };
    let answer = agreements(suite).select_service_agreement(authed(request, token)).await.unwrap().into_inner();
    let selection = answer.selection.unwrap();
    let mut candidates = selection.candidate_ids.clone();
    candidates.sort();
    (selection.r#match(), selection.service_agreement_id, candidates)
}

async fn contact_beats_department_beats_account_beats_default_and_ties_are_left_to_the_user(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Email", 60, 240).await;
    let (member, token, account_id) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let (_, other_token, _) = customer(&suite, &admin, "Globex", "bob@globex.test").await;

    assert_eq!(select(&suite, &token, &service.id).await, (AgreementMatch::None, String::new(), vec![]));
    let default = agreement(&suite, &admin, "Default", None, &[&service.id], &calendar.id).await;
    assert_eq!(select(&suite, &token, &service.id).await, (AgreementMatch::Default, default.id.clone(), vec![]));

    let by_account_account = account_id.clone();
    let account = ServiceObject::AccountId(account_id);
    let by_account = agreement(&suite, &admin, "Acme gold", Some(account), &[&service.id], &calendar.id).await;
    assert_eq!(select(&suite, &token, &service.id).await, (AgreementMatch::Account, by_account.id.clone(), vec![]));
    assert_eq!(
        select(&suite, &other_token, &service.id).await.0,
        AgreementMatch::Default,
        "another organization's member does not get Acme's agreement"
    );

    // Ann's contact joins a department of Acme: the department's agreement beats the account's.
    let department = AccountServiceClient::new(suite.channel())
        .create_department(authed(
            CreateDepartmentRequest {
                department: Some(Department {
                    account_id: by_account_account.clone(),
                    name: "IT".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    ContactServiceClient::new(suite.channel())
        .update_contact(authed(
            UpdateContactRequest {
                contact: Some(Contact {
                    id: member.contact_id.clone(),
                    department_id: department.id.clone(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["department_id".into()] }),
            },
            &admin,
        ))
        .await
        .unwrap();
    let by_department = agreement(
        &suite,
        &admin,
        "Acme IT",
        Some(ServiceObject::DepartmentId(department.id.clone())),
        &[&service.id],
        &calendar.id,
    )
    .await;
    assert_eq!(
        select(&suite, &token, &service.id).await,
        (AgreementMatch::Department, by_department.id.clone(), vec![])
    );

    let contact = || Some(ServiceObject::ContactId(member.contact_id.clone()));
    let first = agreement(&suite, &admin, "Ann premium", contact(), &[&service.id], &calendar.id).await;
    assert_eq!(select(&suite, &token, &service.id).await, (AgreementMatch::Contact, first.id.clone(), vec![]));

    // An agreement for another service does not count for this one.
    let other_service = support_case::service(&suite, &admin, "Phones", 60, 240).await;
    agreement(&suite, &admin, "Ann phones", contact(), &[&other_service.id], &calendar.id).await;
    assert_eq!(select(&suite, &token, &service.id).await.0, AgreementMatch::Contact);

    let second = agreement(&suite, &admin, "Ann extra", contact(), &[&service.id], &calendar.id).await;
    let mut both = vec![first.id.clone(), second.id.clone()];
    both.sort();
    assert_eq!(select(&suite, &token, &service.id).await, (AgreementMatch::Contact, String::new(), both.clone()));

    // A case registered now keeps its agreement empty, offers the candidates and has no deadlines.
    let case = open_case(&suite, &token, &service.id, "Mail bounces").await.unwrap();
    assert_eq!(case.service_agreement_id, "");
    let mut candidates = case.service_agreement_candidate_ids.clone();
    candidates.sort();
    assert_eq!(candidates, both);
    assert_eq!(case.response.unwrap().state(), SlaClockState::NotStarted);

    // Choosing a non-candidate is refused; choosing a candidate starts the clocks.
    let choose = |agreement_id: &str, etag: &str| UpdateCaseRequest {
        case: Some(Case {
            id: case.id.clone(),
            service_agreement_id: agreement_id.into(),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["service_agreement_id".into()] }),
    };
    let refused = cases(&suite).update_case(authed(choose(&default.id, ""), &token)).await.unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused).as_str()),
        (Code::FailedPrecondition, "SERVICE_AGREEMENT_NOT_CANDIDATE")
    );
    let chosen = cases(&suite).update_case(authed(choose(&first.id, &case.etag), &token)).await.unwrap().into_inner();
    assert_eq!(chosen.service_agreement_id, first.id);
    assert!(chosen.service_agreement_candidate_ids.is_empty());
    assert_eq!(chosen.response.unwrap().state(), SlaClockState::Running);
    let again = cases(&suite).update_case(authed(choose(&second.id, ""), &token)).await.unwrap_err();
    assert_eq!((again.code(), reason(&again).as_str()), (Code::FailedPrecondition, "CASE_FIELD_IMMUTABLE"));

    // A portal user may not ask for another contact.
    let request = SelectServiceAgreementRequest { contact_id: "someone-else".into(), service_item_id: String::new() };
    let denied = agreements(&suite).select_service_agreement(authed(request, &other_token)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
