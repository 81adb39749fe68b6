//! SLA warning and breach emails (issue 6, DESIGN.md §5 "Deadlines"): with a manual
//! clock, a warning at 75% of each clock's target and a breach at its deadline arrive at a
//! real SMTP server, each once, and not before their moment, for the case's author and
//! the members of its owner group (sub-groups included).

#[path = "support/case.rs"]
mod support_case;
#[path = "support/case_mail.rs"]
mod support_case_mail;

use std::time::Duration;

use portal_proto::case::{Case, CaseHistoryKind, ListCaseHistoryRequest, SlaClockKind, UpdateCaseRequest};
use portal_tests::{authed, fixtures, smtp::counts_by_message_id};
use support_case::*;
use support_case_mail::{MailSuite, WAIT};

portal_tests::suite_variants!(
    start: |mode, backend| MailSuite::start(mode, backend);
    threads: 2;
    warnings_and_breaches_are_emailed_once_at_their_moments,
);

async fn warnings_and_breaches_are_emailed_once_at_their_moments(mail: MailSuite) {
    let suite = &mail.suite;
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    // Response 60 min (warning 09:45, breach 10:00); resolution 240 min (warning 12:00, breach 13:00).
    let service = service(suite, &admin, "Printing", 60, 240).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, token, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    let case = open_case(suite, &token, &service.id, "Printer on fire").await.unwrap();
    // The service desk owns the case; Dan is in its night shift.
    let (dan, _) = fixtures::employee(suite, &admin, "dan@company.test").await;
    let desk = fixtures::role(suite, &admin, "all-employees", "Service desk").await;
    let night = fixtures::role(suite, &admin, &desk.id, "Night shift").await;
    fixtures::add_to_role(suite, &admin, &night.id, &[&dan.id]).await;
    let owned = UpdateCaseRequest {
        case: Some(Case { id: case.id.clone(), owner_group_id: desk.id.clone(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["owner_group_id".into()] }),
    };
    cases(suite).update_case(authed(owned, &admin)).await.expect("staff set the owner group");

    let moments = [
        (utc(2026, 11, 23, 9, 50), "response deadline approaching"),
        (utc(2026, 11, 23, 10, 1), "response deadline passed"),
        (utc(2026, 11, 23, 12, 1), "resolution deadline approaching"),
        (utc(2026, 11, 23, 13, 1), "resolution deadline passed"),
    ];
    for (index, (moment, subject)) in moments.iter().enumerate() {
        suite.clock.set(moment * 1000);
        let received = mail.smtp.wait_for(2 * (index + 1), WAIT).await;
        assert_eq!(received.len(), 2 * (index + 1), "two more emails at {subject}: {received:#?}");
        let mut recipients: Vec<&str> = received
            .iter()
            .filter(|m| m.subject.contains(subject))
            .inspect(|m| assert!(m.subject.contains(&case.number), "{}", m.subject))
            .flat_map(|m| m.envelope_to.iter().map(String::as_str))
            .collect();
        recipients.sort_unstable();
        assert_eq!(recipients, ["ann@acme.test", "dan@company.test"], "{subject}: {received:#?}");
    }
    // Nothing more fires, and nothing fired twice.
    suite.clock.set(utc(2026, 11, 30, 9, 0) * 1000);
    let received = mail.smtp.wait_for(9, Duration::from_secs(2)).await;
    assert_eq!(received.len(), 8, "{received:#?}");
    assert!(counts_by_message_id(&received).values().all(|count| *count == 1));

    let token = suite.login("ann@acme.test", portal_tests::fixtures::MEMBER_PASSWORD).await.unwrap();
    let request = ListCaseHistoryRequest {
        case_id: case.id.clone(),
        kinds: vec![CaseHistoryKind::SlaWarning.into(), CaseHistoryKind::SlaBreached.into()],
        ..Default::default()
    };
    let entries = cases(suite).list_case_history(authed(request, &token)).await.unwrap().into_inner().entries;
    let events: Vec<_> = entries.iter().map(|e| (e.kind(), e.sla_clock())).collect();
    assert_eq!(
        events,
        [
            (CaseHistoryKind::SlaWarning, SlaClockKind::Response),
            (CaseHistoryKind::SlaBreached, SlaClockKind::Response),
            (CaseHistoryKind::SlaWarning, SlaClockKind::Resolution),
            (CaseHistoryKind::SlaBreached, SlaClockKind::Resolution),
        ]
    );
    let case = get_case(suite, &token, &case.id).await.unwrap();
    assert!(case.response.unwrap().breached && case.resolution.unwrap().breached);
}
