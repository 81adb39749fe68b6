//! The case author's emails at a real SMTP server (issue 6, DESIGN.md §5 "Messages" and
//! "Feedback", seed 003 "How to communicate with support staff" and "How to leave case
//! feedback"): a new staff message on their case, and the feedback request once the case
//! is Resolved, Closed or Canceled, asked once and not again on Resolved -> Closed.

#[path = "support/case.rs"]
mod support_case;
#[path = "support/case_mail.rs"]
mod support_case_mail;

use std::time::Duration;

use portal_proto::case::{
    CancelCaseRequest, CaseClosureReason, CaseStatus, CloseCaseRequest, PostMessageRequest, SetFeedbackRequest,
};
use portal_tests::{authed, smtp::Received};
use support_case::*;
use support_case_mail::{MailSuite, WAIT};

portal_tests::suite_variants!(
    start: |mode, backend| MailSuite::start(mode, backend);
    threads: 2;
    staff_messages_and_completed_cases_email_the_author,
);

async fn post(mail: &MailSuite, token: &str, case_id: &str, body: &str, is_complaint: bool) {
    let request = PostMessageRequest { case_id: case_id.into(), body: body.into(), is_complaint, ..Default::default() };
    messages(&mail.suite).post_message(authed(request, token)).await.unwrap();
}

/// Waits for the `count`th email and returns it, checking that no other arrived.
async fn nth_email(mail: &MailSuite, count: usize) -> Received {
    let mut received = mail.smtp.wait_for(count, WAIT).await;
    assert_eq!(received.len(), count, "{received:#?}");
    received.sort_by_key(|m| m.received_at_ms);
    received.pop().expect("an email")
}

async fn staff_messages_and_completed_cases_email_the_author(mail: MailSuite) {
    let suite = &mail.suite;
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    // Long SLA times: no warning falls due while the clock stands still.
    let service = service(suite, &admin, "Printing", 6_000, 60_000).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, ann, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    let case = open_case(suite, &ann, &service.id, "Printer jams").await.unwrap();

    // The author's own messages and complaints email nobody; a staff message emails the author.
    post(&mail, &ann, &case.id, "It jams on every page", false).await;
    post(&mail, &ann, &case.id, "Nobody answers", true).await;
    post(&mail, &admin, &case.id, "Please clean roller 3 and try again.", false).await;
    let message = nth_email(&mail, 1).await;
    assert_eq!(message.envelope_to, ["ann@acme.test"]);
    assert!(message.subject.contains(&format!("New message on case {}", case.number)), "{}", message.subject);
    assert!(message.text.contains("Please clean roller 3 and try again."), "{}", message.text);

    // Waiting for response asks for nothing; Resolved asks for feedback, with the case's link.
    transition(suite, &admin, &case.id, CaseStatus::WaitingForResponse, CaseClosureReason::Unspecified).await.unwrap();
    transition(suite, &admin, &case.id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    let feedback = nth_email(&mail, 2).await;
    assert_eq!(feedback.envelope_to, ["ann@acme.test"]);
    assert!(feedback.subject.contains(&case.number), "{}", feedback.subject);
    assert!(feedback.text.contains(&format!("/cases/{}/feedback", case.number)), "{}", feedback.text);
    // Closing the resolved case does not ask again; the author rates it.
    let close = CloseCaseRequest { id: case.id.clone(), ..Default::default() };
    cases(suite).close_case(authed(close, &ann)).await.unwrap();
    let rate =
        SetFeedbackRequest { id: case.id.clone(), satisfaction_level: 4, notes: "Quick".into(), ..Default::default() };
    cases(suite).set_feedback(authed(rate, &ann)).await.unwrap();

    // A case the author cancels, and one staff cancel, each ask once.
    let mistaken = open_case(suite, &ann, &service.id, "Opened by mistake").await.unwrap();
    let cancel = CancelCaseRequest { id: mistaken.id.clone(), ..Default::default() };
    cases(suite).cancel_case(authed(cancel, &ann)).await.unwrap();
    let canceled = nth_email(&mail, 3).await;
    assert!(canceled.text.contains(&format!("/cases/{}/feedback", mistaken.number)), "{}", canceled.text);
    let duplicate = open_case(suite, &ann, &service.id, "Same jam again").await.unwrap();
    transition(suite, &admin, &duplicate.id, CaseStatus::Canceled, CaseClosureReason::Duplicate).await.unwrap();
    let canceled = nth_email(&mail, 4).await;
    assert!(canceled.text.contains(&format!("/cases/{}/feedback", duplicate.number)), "{}", canceled.text);

    let received = mail.smtp.wait_for(5, Duration::from_secs(2)).await;
    assert_eq!(received.len(), 4, "nothing else was sent: {received:#?}");
}
