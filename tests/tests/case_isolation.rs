//! Who reaches which case (issue 6, DESIGN.md §5 "Visibility"): a portal user sees the
//! cases they registered; another organization's user cannot read, list, message or act
//! on them (NOT_FOUND), and lists stay correct and paginated under the record filter.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::{
    access::{
        AuthorOrganization, CreateDefaultRecordRuleRequest, DefaultRecordRule, DefaultRecordRuleTarget, Grantee,
        RecordRight, default_record_rule_service_client::DefaultRecordRuleServiceClient,
        default_record_rule_target::Target, grantee::Subject,
    },
    case::{
        CancelCaseRequest, CaseFilter, CaseOrderBy, CaseStatus, ListCaseHistoryRequest, ListCasesRequest,
        ListMessagesRequest, PostMessageRequest, SetFeedbackRequest,
    },
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use support_case::*;
use tonic::Code;

suite_tests!(
    another_organization_cannot_reach_a_case_and_lists_page_through_own_cases,
    organization_wide_visibility_lists_colleagues_cases_once_across_pages
);

async fn list_all(suite: &Suite, token: &str, filter: CaseFilter, page_size: i32) -> (Vec<String>, usize) {
    list_in_order(suite, token, filter, page_size, CaseOrderBy::CreateTimeAsc).await
}

async fn list_in_order(
    suite: &Suite,
    token: &str,
    filter: CaseFilter,
    page_size: i32,
    order: CaseOrderBy,
) -> (Vec<String>, usize) {
    let mut client = cases(suite);
    let mut numbers = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let request = ListCasesRequest {
            page_size,
            page_token: page_token.clone(),
            filter: Some(filter.clone()),
            order_by: order.into(),
            ..Default::default()
        };
        let page = client.list_cases(authed(request, token)).await.unwrap().into_inner();
        pages += 1;
        numbers.extend(page.cases.into_iter().map(|c| c.number));
        if page.next_page_token.is_empty() {
            return (numbers, pages);
        }
        page_token = page.next_page_token;
    }
}

async fn another_organization_cannot_reach_a_case_and_lists_page_through_own_cases(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Printing", 240, 600).await;
    let other_service = support_case::service(&suite, &admin, "Phones", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&service.id, &other_service.id], &calendar.id).await;
    let (_, ann, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let (_, bob, _) = customer(&suite, &admin, "Globex", "bob@globex.test").await;

    let mut mine = Vec::new();
    for n in 0..7 {
        let about = if n % 2 == 0 { &service.id } else { &other_service.id };
        mine.push(open_case(&suite, &ann, about, &format!("case {n}")).await.unwrap());
    }
    let theirs = open_case(&suite, &bob, &service.id, "Bob's").await.unwrap();

    // Bob's organization cannot reach Ann's case in any way: NOT_FOUND, never PERMISSION_DENIED.
    let id = mine[0].id.clone();
    let not_found = |result: Result<(), tonic::Status>| assert_eq!(result.unwrap_err().code(), Code::NotFound);
    not_found(get_case(&suite, &bob, &id).await.map(drop));
    let post = PostMessageRequest { case_id: id.clone(), body: "hi".into(), ..Default::default() };
    not_found(messages(&suite).post_message(authed(post, &bob)).await.map(drop));
    let list = ListMessagesRequest { case_id: id.clone(), ..Default::default() };
    not_found(messages(&suite).list_messages(authed(list, &bob)).await.map(drop));
    let cancel = CancelCaseRequest { id: id.clone(), ..Default::default() };
    not_found(cases(&suite).cancel_case(authed(cancel, &bob)).await.map(drop));
    let history = ListCaseHistoryRequest { case_id: id.clone(), ..Default::default() };
    not_found(cases(&suite).list_case_history(authed(history, &bob)).await.map(drop));
    let feedback = SetFeedbackRequest { id: id.clone(), satisfaction_level: 1, ..Default::default() };
    not_found(cases(&suite).set_feedback(authed(feedback, &bob)).await.map(drop));
    assert_eq!(get_case(&suite, &ann, &theirs.id).await.unwrap_err().code(), Code::NotFound);

    // Lists hold only the caller's cases, in order, across pages of 3.
    let expected: Vec<String> = mine.iter().map(|c| c.number.clone()).collect();
    let (numbers, pages) = list_all(&suite, &ann, CaseFilter::default(), 3).await;
    assert_eq!((numbers, pages), (expected.clone(), 3));
    let (numbers, _) = list_all(&suite, &bob, CaseFilter::default(), 3).await;
    assert_eq!(numbers, [theirs.number.clone()]);
    // Staff see every case.
    let (numbers, _) = list_all(&suite, &admin, CaseFilter::default(), 2).await;
    assert_eq!(numbers.len(), 8);

    // Filters: service, status, number; combined with the record filter.
    let by_service = CaseFilter { service_item_ids: vec![service.id.clone()], ..Default::default() };
    let (numbers, _) = list_all(&suite, &ann, by_service, 2).await;
    let even: Vec<String> = expected.iter().step_by(2).cloned().collect();
    assert_eq!(numbers, even);
    cases(&suite)
        .cancel_case(authed(CancelCaseRequest { id: mine[1].id.clone(), ..Default::default() }, &ann))
        .await
        .unwrap();
    let canceled = CaseFilter { statuses: vec![CaseStatus::Canceled.into()], ..Default::default() };
    assert_eq!(list_all(&suite, &ann, canceled, 10).await.0, [mine[1].number.clone()]);
    let by_number = CaseFilter { number: theirs.number.to_lowercase(), ..Default::default() };
    assert!(list_all(&suite, &ann, by_number.clone(), 10).await.0.is_empty(), "another's number finds nothing");
    assert_eq!(list_all(&suite, &bob, by_number, 10).await.0, [theirs.number.clone()]);
}

/// A default rule shares each case with its author's organization: a colleague's list holds
/// the organization's cases and their own, each once, in order, across pages; another
/// organization still sees only its own.
async fn organization_wide_visibility_lists_colleagues_cases_once_across_pages(suite: Suite) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let service = service(&suite, &admin, "Printing", 240, 600).await;
    agreement(&suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (ann_user, ann, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let (_, carl) = fixtures::member(&suite, &admin, &ann_user.organization_id, "carl@acme.test", false).await;
    let (_, bob, _) = customer(&suite, &admin, "Globex", "bob@globex.test").await;
    let acme_shares_its_cases = CreateDefaultRecordRuleRequest {
        default_record_rule: Some(DefaultRecordRule {
            object_code: "Case".into(),
            author: Some(Grantee { subject: Some(Subject::OrganizationId(ann_user.organization_id.clone())) }),
            target: Some(DefaultRecordRuleTarget { target: Some(Target::AuthorOrganization(AuthorOrganization {})) }),
            rights: vec![RecordRight::Read.into()],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let mut rules = DefaultRecordRuleServiceClient::new(suite.channel());
    rules.create_default_record_rule(authed(acme_shares_its_cases, &admin)).await.unwrap();

    let mut acme = Vec::new();
    for n in 0..5 {
        let author = if n % 2 == 0 { &ann } else { &carl };
        acme.push(open_case(&suite, author, &service.id, &format!("case {n}")).await.unwrap().number);
    }
    let globex = open_case(&suite, &bob, &service.id, "Bob's").await.unwrap().number;

    for (token, page_size) in [(&carl, 2), (&ann, 3), (&carl, 10)] {
        assert_eq!(list_all(&suite, token, CaseFilter::default(), page_size).await.0, acme);
    }
    // Newest first (the default order, read from the grants' index), across pages.
    let newest_first: Vec<String> = acme.iter().rev().cloned().collect();
    for order in [CaseOrderBy::Unspecified, CaseOrderBy::CreateTimeDesc] {
        assert_eq!(list_in_order(&suite, &carl, CaseFilter::default(), 2, order).await.0, newest_first);
    }
    // Another order, or a filter, reads the granted cases the other way: the same cases.
    let mut by_number = list_in_order(&suite, &carl, CaseFilter::default(), 2, CaseOrderBy::NumberDesc).await.0;
    by_number.reverse();
    assert_eq!(by_number, acme);
    let open = CaseFilter { statuses: vec![CaseStatus::New.into()], ..Default::default() };
    assert_eq!(list_all(&suite, &carl, open, 2).await.0, acme);
    assert_eq!(list_all(&suite, &bob, CaseFilter::default(), 2).await.0, [globex]);
}
