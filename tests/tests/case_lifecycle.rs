//! The case status machine through the gateway (issue 6; seed 003 "Working with the
//! portal Cases"): cancel, close and reopen with their exact effects, the staff table,
//! messages refused on Closed cases while complaints are accepted on Closed and Canceled
//! ones, and feedback only after a solution, with every move in the history; columns
//! access hides are left out of cases and their history, and read-only ones refuse edits.

#[path = "support/access.rs"]
mod support_access;
#[path = "support/case.rs"]
mod support_case;

use portal_proto::{
    access::ColumnAccessLevel,
    case::{
        CancelCaseRequest, Case, CaseClosureReason, CaseHistoryKind, CaseStatus, CloseCaseRequest,
        ListCaseHistoryRequest, ListCasesRequest, ListMessagesRequest, PostMessageRequest, ReopenCaseRequest,
        SetFeedbackRequest, UpdateCaseRequest,
    },
};
use portal_tests::{Suite, authed, fixtures, suite_tests};
use support_case::*;
use tonic::Code;

suite_tests!(
    portal_actions_have_the_seeds_effects,
    staff_moves_messages_complaints_and_feedback_follow_the_rules,
    hidden_columns_are_left_out_and_read_only_columns_refuse_edits
);

struct Setup {
    admin: String,
    token: String,
    service_id: String,
}

async fn setup(suite: &Suite) -> Setup {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    let service = service(suite, &admin, "Printing", 240, 600).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, token, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    Setup { admin, token, service_id: service.id }
}

fn cancel(id: &str) -> CancelCaseRequest {
    CancelCaseRequest { id: id.into(), etag: String::new(), comment: "registered by mistake".into() }
}
fn close(id: &str) -> CloseCaseRequest {
    CloseCaseRequest { id: id.into(), ..Default::default() }
}
fn reopen(id: &str) -> ReopenCaseRequest {
    ReopenCaseRequest { id: id.into(), ..Default::default() }
}

async fn portal_actions_have_the_seeds_effects(suite: Suite) {
    let s = setup(&suite).await;
    let mut client = cases(&suite);

    // Cancel: "Canceled by user", first and actual resolution time and closed-on set.
    let case = open_case(&suite, &s.token, &s.service_id, "Wrong printer").await.unwrap();
    let canceled = client.cancel_case(authed(cancel(&case.id), &s.token)).await.unwrap().into_inner();
    assert_eq!(canceled.status(), CaseStatus::Canceled);
    assert_eq!(canceled.closure_reason(), CaseClosureReason::CanceledByUser);
    let now = canceled.update_time.unwrap();
    assert_eq!(canceled.first_resolution_time.as_ref(), Some(&now));
    assert_eq!(canceled.actual_resolution_time.as_ref(), Some(&now));
    assert_eq!(canceled.close_time.as_ref(), Some(&now));
    let again = client.cancel_case(authed(cancel(&case.id), &s.token)).await.unwrap_err();
    assert_eq!((again.code(), reason(&again).as_str()), (Code::FailedPrecondition, "CASE_NOT_CANCELABLE"));

    // Reopen only from Resolved or Waiting for response.
    let case = open_case(&suite, &s.token, &s.service_id, "Toner").await.unwrap();
    let refused = client.reopen_case(authed(reopen(&case.id), &s.token)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "CASE_NOT_REOPENABLE"));
    let closing = client.close_case(authed(close(&case.id), &s.token)).await.unwrap_err();
    assert_eq!((closing.code(), reason(&closing).as_str()), (Code::FailedPrecondition, "CASE_NOT_CLOSABLE"));
    transition(&suite, &s.admin, &case.id, CaseStatus::WaitingForResponse, CaseClosureReason::Unspecified)
        .await
        .unwrap();
    let reopened = client.reopen_case(authed(reopen(&case.id), &s.token)).await.unwrap().into_inner();
    assert_eq!(reopened.status(), CaseStatus::Reopened);
    let resolved =
        transition(&suite, &s.admin, &case.id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    assert!(resolved.actual_resolution_time.is_some() && resolved.first_resolution_time.is_some());
    let reopened = client.reopen_case(authed(reopen(&case.id), &s.token)).await.unwrap().into_inner();
    assert_eq!(reopened.status(), CaseStatus::Reopened);
    assert!(reopened.actual_resolution_time.is_none(), "reopening clears the actual resolution time");
    assert_eq!(reopened.first_resolution_time, resolved.first_resolution_time, "and keeps the first");

    // Close: only a resolved case; "Closed by user" and closed-on.
    transition(&suite, &s.admin, &case.id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    let closed = client.close_case(authed(close(&case.id), &s.token)).await.unwrap().into_inner();
    assert_eq!(closed.status(), CaseStatus::Closed);
    assert_eq!(closed.closure_reason(), CaseClosureReason::ClosedByUser);
    assert_eq!(closed.close_time, closed.update_time);
    let after = client.reopen_case(authed(reopen(&case.id), &s.token)).await.unwrap_err();
    assert_eq!(reason(&after), "CASE_NOT_REOPENABLE");

    // Employees use TransitionCase, not the portal actions.
    let other = open_case(&suite, &s.token, &s.service_id, "Paper").await.unwrap();
    let staff = client.cancel_case(authed(cancel(&other.id), &s.admin)).await.unwrap_err();
    assert_eq!(staff.code(), Code::PermissionDenied);

    // Every move is in the history.
    let request = ListCaseHistoryRequest {
        case_id: case.id.clone(),
        kinds: vec![CaseHistoryKind::StatusChanged.into()],
        ..Default::default()
    };
    let history = client.list_case_history(authed(request, &s.token)).await.unwrap().into_inner().entries;
    let moves: Vec<_> = history.iter().map(|e| (e.from_status(), e.to_status())).collect();
    use CaseStatus::*;
    assert_eq!(
        moves,
        [
            (New, WaitingForResponse),
            (WaitingForResponse, Reopened),
            (Reopened, Resolved),
            (Resolved, Reopened),
            (Reopened, Resolved),
            (Resolved, Closed)
        ]
    );
    assert_eq!(history.last().unwrap().closure_reason(), CaseClosureReason::ClosedByUser);
}

async fn staff_moves_messages_complaints_and_feedback_follow_the_rules(suite: Suite) {
    let s = setup(&suite).await;
    let mut client = cases(&suite);
    let mut conversation = messages(&suite);
    let post = |case_id: &str, complaint: bool| PostMessageRequest {
        case_id: case_id.into(),
        body: if complaint { "This took far too long" } else { "Any news?" }.into(),
        is_complaint: complaint,
        request_id: String::new(),
    };
    let feedback =
        |id: &str, level: i32| SetFeedbackRequest { id: id.into(), satisfaction_level: level, notes: "ok".into() };

    let case = open_case(&suite, &s.token, &s.service_id, "Scanner").await.unwrap();
    // Staff moves outside the table are refused; Closed and Canceled need a staff reason.
    let jump =
        transition(&suite, &s.admin, &case.id, CaseStatus::Closed, CaseClosureReason::ClosedByStaff).await.unwrap_err();
    assert_eq!((jump.code(), reason(&jump).as_str()), (Code::FailedPrecondition, "CASE_TRANSITION_NOT_ALLOWED"));
    let same =
        transition(&suite, &s.admin, &case.id, CaseStatus::New, CaseClosureReason::Unspecified).await.unwrap_err();
    assert_eq!(reason(&same), "CASE_TRANSITION_NOT_ALLOWED");
    let portal = transition(&suite, &s.token, &case.id, CaseStatus::InProgress, CaseClosureReason::Unspecified).await;
    assert_eq!(portal.unwrap_err().code(), Code::PermissionDenied);

    // Feedback is refused before the case is resolved.
    let early = client.set_feedback(authed(feedback(&case.id, 4), &s.token)).await.unwrap_err();
    assert_eq!((early.code(), reason(&early).as_str()), (Code::FailedPrecondition, "FEEDBACK_NOT_ALLOWED"));

    // A customer's message on a case waiting for them moves it to In progress.
    transition(&suite, &s.admin, &case.id, CaseStatus::WaitingForResponse, CaseClosureReason::Unspecified)
        .await
        .unwrap();
    conversation.post_message(authed(post(&case.id, false), &s.token)).await.unwrap();
    assert_eq!(get_case(&suite, &s.token, &case.id).await.unwrap().status(), CaseStatus::InProgress);

    transition(&suite, &s.admin, &case.id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    let rated = client.set_feedback(authed(feedback(&case.id, 5), &s.token)).await.unwrap().into_inner();
    assert_eq!(rated.feedback.unwrap().satisfaction_level, 5);
    let bad = client.set_feedback(authed(feedback(&case.id, 6), &s.token)).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let no_reason = transition(&suite, &s.admin, &case.id, CaseStatus::Closed, CaseClosureReason::Unspecified).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let closed =
        transition(&suite, &s.admin, &case.id, CaseStatus::Closed, CaseClosureReason::ClosedByStaff).await.unwrap();
    assert_eq!(closed.closure_reason(), CaseClosureReason::ClosedByStaff);
    assert_eq!(
        transition(&suite, &s.admin, &case.id, CaseStatus::Reopened, CaseClosureReason::Unspecified)
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition,
        "Closed is final"
    );

    // No message on a Closed case, but a complaint is accepted, also on a Canceled one.
    let refused = conversation.post_message(authed(post(&case.id, false), &s.token)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "CASE_CLOSED"));
    let staff_refused = conversation.post_message(authed(post(&case.id, false), &s.admin)).await.unwrap_err();
    assert_eq!(reason(&staff_refused), "CASE_CLOSED");
    let complaint = conversation.post_message(authed(post(&case.id, true), &s.token)).await.unwrap().into_inner();
    assert!(complaint.is_complaint);
    let canceled = open_case(&suite, &s.token, &s.service_id, "Never mind").await.unwrap();
    client.cancel_case(authed(cancel(&canceled.id), &s.token)).await.unwrap();
    conversation.post_message(authed(post(&canceled.id, true), &s.token)).await.unwrap();
    let canceled_feedback =
        client.set_feedback(authed(feedback(&canceled.id, 2), &s.token)).await.unwrap().into_inner();
    assert_eq!(canceled_feedback.feedback.unwrap().satisfaction_level, 2, "feedback is allowed after a cancel");

    let request = ListMessagesRequest { case_id: case.id.clone(), complaints_only: true, ..Default::default() };
    let complaints = conversation.list_messages(authed(request, &s.token)).await.unwrap().into_inner().messages;
    assert_eq!(complaints.len(), 1);
    let request = ListCaseHistoryRequest {
        case_id: case.id.clone(),
        kinds: vec![CaseHistoryKind::ComplaintPosted.into(), CaseHistoryKind::FeedbackSet.into()],
        ..Default::default()
    };
    let entries = client.list_case_history(authed(request, &s.token)).await.unwrap().into_inner().entries;
    assert_eq!(
        entries.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        [CaseHistoryKind::FeedbackSet, CaseHistoryKind::ComplaintPosted]
    );
}

fn update(case: Case, paths: &[&str]) -> UpdateCaseRequest {
    let paths = paths.iter().map(|p| p.to_string()).collect();
    UpdateCaseRequest { case: Some(case), update_mask: Some(prost_types::FieldMask { paths }) }
}

/// Seed 003 "Managing column permissions": a role of portal users with the subject
/// read-only and "Modified on", the resolution time and the priority hidden. They read
/// cases (one or in a list) without the hidden fields and their history without changes
/// of them, may not edit the subject but may edit the tags; staff see and edit it all. A
/// hidden satisfaction level cannot be rated either.
async fn hidden_columns_are_left_out_and_read_only_columns_refuse_edits(suite: Suite) {
    let s = setup(&suite).await;
    let mut client = cases(&suite);
    let admin = &s.admin;
    let case = open_case(&suite, &s.token, &s.service_id, "Toner").await.unwrap();
    let restricted = fixtures::role(&suite, admin, &case.organization_id, "Restricted").await;
    fixtures::add_to_role(&suite, admin, &restricted.id, &[&case.author_user_id]).await;
    let columns = [
        ("Subject", ColumnAccessLevel::Read),
        ("ModifiedOn", ColumnAccessLevel::Hidden),
        ("ResolutionTime", ColumnAccessLevel::Hidden),
        ("Priority", ColumnAccessLevel::Hidden),
    ];
    for (column, level) in columns {
        support_access::column(&suite, admin, "Case", column, support_access::role(&restricted.id), level).await;
    }

    let shown = get_case(&suite, &s.token, &case.id).await.unwrap();
    assert_eq!(shown.subject, "Toner", "read-only is still shown");
    assert!(shown.update_time.is_none() && shown.resolution.is_none(), "{shown:?}");
    assert!(shown.response.is_some() && shown.create_time.is_some(), "other columns stay: {shown:?}");
    let listed = client.list_cases(authed(ListCasesRequest::default(), &s.token)).await.unwrap().into_inner().cases;
    assert!(listed.len() == 1 && listed[0].update_time.is_none() && listed[0].resolution.is_none(), "{listed:?}");
    let staff_view = get_case(&suite, admin, &case.id).await.unwrap();
    assert!(staff_view.update_time.is_some() && staff_view.resolution.is_some());

    let rename = Case { id: case.id.clone(), subject: "Renamed".into(), ..Default::default() };
    let refused = client.update_case(authed(update(rename.clone(), &["subject"]), &s.token)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "COLUMN_READ_ONLY"));
    let tagged = Case { id: case.id.clone(), tags: vec!["urgent".into()], ..Default::default() };
    let tagged = client.update_case(authed(update(tagged, &["tags"]), &s.token)).await.unwrap().into_inner();
    assert_eq!((tagged.subject.as_str(), tagged.tags.as_slice()), ("Toner", ["urgent".to_owned()].as_slice()));
    let reprioritized = Case { id: case.id.clone(), priority: 3, ..rename };
    client.update_case(authed(update(reprioritized, &["subject", "priority"]), admin)).await.unwrap();

    let history = |token: String| {
        let mut client = cases(&suite);
        let request = ListCaseHistoryRequest {
            case_id: case.id.clone(),
            kinds: vec![CaseHistoryKind::FieldsChanged.into()],
            ..Default::default()
        };
        async move {
            let entries = client.list_case_history(authed(request, &token)).await.unwrap().into_inner().entries;
            let mut fields: Vec<String> = entries.into_iter().flat_map(|e| e.changes).map(|c| c.field).collect();
            fields.sort();
            fields
        }
    };
    assert_eq!(history(admin.clone()).await, ["priority", "subject", "tags"]);
    assert_eq!(history(s.token.clone()).await, ["subject", "tags"], "the priority change is hidden");

    transition(&suite, admin, &case.id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    let user = support_access::user(&case.author_user_id);
    support_access::column(&suite, admin, "Case", "SatisfactionLevel", user, ColumnAccessLevel::Hidden).await;
    let rate = SetFeedbackRequest { id: case.id.clone(), satisfaction_level: 4, notes: String::new() };
    let refused = client.set_feedback(authed(rate, &s.token)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "COLUMN_HIDDEN"));
}
