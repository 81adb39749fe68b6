//! Changing a case's service (issue 6, DESIGN.md §5 "Service agreements" and "Deadlines"):
//! staff only, to an active service of the case's category that its agreement covers; the
//! deadlines are those of the new service counted from registration, time spent waiting
//! still excluded, and the change is in the case history.

#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    Case, CaseCategory, CaseClosureReason, CaseHistoryKind, CaseStatus, CreateServiceItemRequest,
    ListCaseHistoryRequest, PostMessageRequest, ServiceItem, SlaClockState, UpdateCaseRequest, sla_clock::TimeLeft,
};
use portal_tests::{Suite, authed, fixtures::MEMBER_PASSWORD, suite_tests};
use prost_types::FieldMask;
use support_case::*;
use tonic::{Code, Status};

suite_tests!(manual_clock: a_new_service_brings_its_deadlines_counted_from_registration);

fn monday(hour: i64) -> i64 {
    utc(2026, 11, 23, hour, 0)
}

async fn change_service(suite: &Suite, token: &str, case_id: &str, service_id: &str) -> Result<Case, Status> {
    let request = UpdateCaseRequest {
        case: Some(Case { id: case_id.into(), service_item_id: service_id.into(), ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["service_item_id".into()] }),
    };
    cases(suite).update_case(authed(request, token)).await.map(|r| r.into_inner())
}

fn deadlines(case: &Case) -> (i64, i64) {
    let seconds = |clock: &Option<portal_proto::case::SlaClock>| {
        clock.as_ref().and_then(|c| c.deadline.as_ref()).map(|d| d.seconds).unwrap_or_default()
    };
    (seconds(&case.response), seconds(&case.resolution))
}

async fn a_new_service_brings_its_deadlines_counted_from_registration(suite: Suite) {
    suite.clock.set(monday(9) * 1000);
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(&suite, &admin, "Office", "UTC", &[]).await;
    let printing = service(&suite, &admin, "Printing", 240, 600).await;
    let urgent = service(&suite, &admin, "Urgent printing", 120, 300).await;
    let phones = service(&suite, &admin, "Phones", 240, 600).await;
    let advice = ServiceItem {
        name: "Advice".into(),
        category: CaseCategory::Consultation.into(),
        response_time_minutes: 60,
        resolution_time_minutes: 60,
        ..Default::default()
    };
    let request = CreateServiceItemRequest { service_item: Some(advice), request_id: String::new() };
    let advice = catalog(&suite).create_service_item(authed(request, &admin)).await.unwrap().into_inner();
    agreement(&suite, &admin, "Everyone", None, &[&printing.id, &urgent.id, &advice.id], &calendar.id).await;
    let (_, ann, _) = customer(&suite, &admin, "Acme", "ann@acme.test").await;
    let running = open_case(&suite, &ann, &printing.id, "Printer jams").await.unwrap();
    let waiting = open_case(&suite, &ann, &printing.id, "Toner streaks").await.unwrap();
    assert_eq!(deadlines(&running), (monday(13), utc(2026, 11, 24, 10, 0)));

    // Refused: a portal user, another category, a service the agreement does not cover, an unknown one.
    let refused = change_service(&suite, &ann, &running.id, &urgent.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = change_service(&suite, &admin, &running.id, &advice.id).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::FailedPrecondition, "CASE_FIELD_IMMUTABLE".into()));
    let refused = change_service(&suite, &admin, &running.id, &phones.id).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::FailedPrecondition, "SERVICE_NOT_COVERED".into()));
    let refused = change_service(&suite, &admin, &running.id, "no-such-service").await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);

    // Monday 10:00: the running case takes the urgent times from its registration at 09:00.
    suite.clock.set(monday(10) * 1000);
    let admin = suite.admin_token().await;
    let changed = change_service(&suite, &admin, &running.id, &urgent.id).await.unwrap();
    assert_eq!(changed.service_item_id, urgent.id);
    assert_eq!(deadlines(&changed), (monday(11), monday(14)), "09:00 + 2 h and + 5 h");
    let request = ListCaseHistoryRequest {
        case_id: running.id.clone(),
        kinds: vec![CaseHistoryKind::FieldsChanged.into()],
        ..Default::default()
    };
    let entries = cases(&suite).list_case_history(authed(request, &admin)).await.unwrap().into_inner().entries;
    let fields: Vec<_> = entries.iter().flat_map(|e| e.changes.iter().map(|c| c.field.as_str())).collect();
    assert_eq!(fields, ["service_item_id", "response.deadline", "resolution.deadline"]);
    assert_eq!((entries[0].changes[0].old_value.as_str(), entries[0].actor_user_id.is_empty()), (&*printing.id, false));

    // The other case waits for the customer from 10:00 (9 of 10 hours left); changed at
    // 11:00, 4 of 5 are left, frozen until the customer answers at 12:00: due at 16:00.
    transition(&suite, &admin, &waiting.id, CaseStatus::WaitingForResponse, CaseClosureReason::Unspecified)
        .await
        .unwrap();
    suite.clock.set(monday(11) * 1000);
    let admin = suite.admin_token().await;
    let changed = change_service(&suite, &admin, &waiting.id, &urgent.id).await.unwrap();
    let resolution = changed.resolution.clone().unwrap();
    assert_eq!(resolution.state(), SlaClockState::Paused);
    let four_hours = prost_types::Duration { seconds: 4 * HOUR, nanos: 0 };
    assert_eq!(resolution.time_left, Some(TimeLeft::Remaining(four_hours)));
    let response = changed.response.unwrap();
    assert_eq!((response.state(), response.target_minutes), (SlaClockState::Stopped, 240), "the response was given");
    suite.clock.set(monday(12) * 1000);
    let ann = suite.login("ann@acme.test", MEMBER_PASSWORD).await.unwrap();
    let answer = PostMessageRequest { case_id: waiting.id.clone(), body: "Still streaky".into(), ..Default::default() };
    messages(&suite).post_message(authed(answer, &ann)).await.unwrap();
    let resumed = get_case(&suite, &ann, &waiting.id).await.unwrap();
    assert_eq!(deadlines(&resumed).1, monday(16));
}
