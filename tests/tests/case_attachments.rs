//! Files of cases and case messages through the gateway (issue 6, DESIGN.md §5 "Messages",
//! seed 003 "How to submit a case" and "How to communicate with support staff"): the case's
//! own reachability decides who reads and attaches (another organization gets NOT_FOUND),
//! only a message's author or staff attach to a message, nothing changes on a Closed case
//! except a complaint's files, and every added or deleted file is in the case history.

#[path = "support/attachments.rs"]
mod support_attachments;
#[path = "support/case.rs"]
mod support_case;

use portal_proto::case::{
    CaseClosureReason, CaseHistoryKind, CaseMessage, CaseStatus, CloseCaseRequest, DeleteAttachmentRequest,
    ListAttachmentsRequest, ListCaseHistoryRequest, ListMessagesRequest, PostMessageRequest,
    attachment_upload_metadata::Parent as UploadTo, list_attachments_request::Parent as ListOf,
};
use portal_tests::{Suite, authed, suite_tests};
use support_attachments::*;
use support_case::*;
use tonic::{Code, Status};

suite_tests!(case_and_message_files_follow_the_case, case_files_are_limited_and_frozen_once_the_case_is_closed);

/// A case of Ann's (Acme) and Bob, a user of another organization: (admin, ann, bob, case id).
async fn ann_with_a_case(suite: &Suite) -> (String, String, String, String) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    let service = service(suite, &admin, "Printing", 240, 600).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, ann, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    let (_, bob, _) = customer(suite, &admin, "Globex", "bob@globex.test").await;
    let case = open_case(suite, &ann, &service.id, "Printer jams").await.unwrap();
    (admin, ann, bob, case.id)
}

async fn post(suite: &Suite, token: &str, case_id: &str, body: &str, is_complaint: bool) -> CaseMessage {
    let request = PostMessageRequest { case_id: case_id.into(), body: body.into(), is_complaint, ..Default::default() };
    messages(suite).post_message(authed(request, token)).await.unwrap().into_inner()
}

fn files_of(parent: ListOf, include_message_attachments: bool) -> ListAttachmentsRequest {
    ListAttachmentsRequest { parent: Some(parent), include_message_attachments, ..Default::default() }
}

async fn delete(suite: &Suite, token: &str, id: &str) -> Result<(), Status> {
    attachments(suite).delete_attachment(authed(DeleteAttachmentRequest { id: id.into() }, token)).await.map(drop)
}

/// The related ids of a case's history entries of `kind`.
async fn history_of(suite: &Suite, token: &str, case_id: &str, kind: CaseHistoryKind) -> Vec<String> {
    let request = ListCaseHistoryRequest { case_id: case_id.into(), kinds: vec![kind.into()], ..Default::default() };
    let entries = cases(suite).list_case_history(authed(request, token)).await.unwrap().into_inner().entries;
    sorted(entries.into_iter().map(|e| e.related_id).collect())
}

/// Ids in a stable order: files made within one millisecond list in id order.
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn case_and_message_files_follow_the_case(suite: Suite) {
    let (admin, ann, bob, case_id) = ann_with_a_case(&suite).await;
    let screenshot: Vec<u8> = (0..300 * 1024).map(|i| (i % 253) as u8).collect();
    let on_case = upload_file(&suite, &ann, UploadTo::CaseId(case_id.clone()), "shot.png", "image/png", &screenshot);
    let on_case = on_case.await.unwrap();
    assert_eq!(
        (on_case.content_type.as_str(), on_case.size_bytes, on_case.message_case_id.as_str()),
        ("image/png", screenshot.len() as i64, ""),
        "content type and size are recorded"
    );
    let message = post(&suite, &ann, &case_id, "Here is the log", false).await;
    let log = b"paper jam at tray 2\n".repeat(50);
    let to_message = UploadTo::MessageId(message.id.clone());
    let on_message = upload_file(&suite, &ann, to_message, "printer.log", "text/plain", &log).await.unwrap();
    assert_eq!((on_message.message_case_id.as_str(), on_message.size_bytes), (case_id.as_str(), log.len() as i64));

    // Only a message's author (or staff) attaches to it.
    let staff_message = post(&suite, &admin, &case_id, "Which tray?", false).await;
    let to_staff = UploadTo::MessageId(staff_message.id.clone());
    let refused = upload_file(&suite, &ann, to_staff.clone(), "a.txt", "text/plain", b"a").await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::PermissionDenied, "NOT_MESSAGE_AUTHOR".into()));
    let staff_file = upload_file(&suite, &admin, to_staff, "tray.pdf", "application/pdf", b"%PDF").await.unwrap();

    // The case's readers list and download them; the case's list holds its messages' files on request.
    let case_files = listed(&suite, &ann, files_of(ListOf::CaseId(case_id.clone()), false)).await.unwrap();
    assert_eq!(case_files, [on_case.id.clone()]);
    let everything = listed(&suite, &ann, files_of(ListOf::CaseId(case_id.clone()), true)).await.unwrap();
    assert_eq!(sorted(everything), sorted(vec![on_case.id.clone(), on_message.id.clone(), staff_file.id.clone()]));
    let message_files = listed(&suite, &admin, files_of(ListOf::MessageId(message.id.clone()), false)).await;
    assert_eq!(message_files.unwrap(), [on_message.id.clone()]);
    // Listed messages carry their files.
    let request = ListMessagesRequest { case_id: case_id.clone(), ..Default::default() };
    let listed_messages = messages(&suite).list_messages(authed(request, &ann)).await.unwrap().into_inner().messages;
    let files_by_message: Vec<(String, Vec<String>)> =
        listed_messages.iter().map(|m| (m.id.clone(), m.attachments.iter().map(|a| a.id.clone()).collect())).collect();
    assert_eq!(
        files_by_message,
        [(message.id.clone(), vec![on_message.id.clone()]), (staff_message.id.clone(), vec![staff_file.id.clone()])]
    );
    let (metadata, content) = download(&suite, &ann, &on_case.id).await.unwrap();
    assert!(metadata.id == on_case.id && content == screenshot, "the download returns the uploaded bytes");
    assert_eq!(download(&suite, &admin, &on_message.id).await.unwrap().1, log);

    // Another organization's user reaches none of it: NOT_FOUND, never PERMISSION_DENIED.
    let not_found = |result: Result<(), Status>, what: &str| {
        assert_eq!(result.unwrap_err().code(), Code::NotFound, "{what}");
    };
    not_found(listed(&suite, &bob, files_of(ListOf::CaseId(case_id.clone()), true)).await.map(drop), "list case");
    not_found(listed(&suite, &bob, files_of(ListOf::MessageId(message.id.clone()), false)).await.map(drop), "list");
    not_found(download(&suite, &bob, &on_case.id).await.map(drop), "download a case file");
    not_found(download(&suite, &bob, &on_message.id).await.map(drop), "download a message file");
    let to_case = UploadTo::CaseId(case_id.clone());
    not_found(upload_file(&suite, &bob, to_case, "x.txt", "text/plain", b"x").await.map(drop), "upload to the case");
    let to_message = UploadTo::MessageId(message.id.clone());
    not_found(upload_file(&suite, &bob, to_message, "x.txt", "text/plain", b"x").await.map(drop), "upload");
    not_found(delete(&suite, &bob, &on_case.id).await, "delete");

    // Uploaders delete their own files; only staff delete others'; both are in the history.
    let refused = delete(&suite, &ann, &staff_file.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    delete(&suite, &ann, &on_message.id).await.unwrap();
    delete(&suite, &admin, &on_case.id).await.unwrap();
    assert_eq!(download(&suite, &ann, &on_message.id).await.unwrap_err().code(), Code::NotFound);
    let everything = listed(&suite, &ann, files_of(ListOf::CaseId(case_id.clone()), true)).await.unwrap();
    assert_eq!(everything, [staff_file.id.clone()]);
    let added = history_of(&suite, &ann, &case_id, CaseHistoryKind::AttachmentAdded).await;
    assert_eq!(added, sorted(vec![on_case.id.clone(), on_message.id.clone(), staff_file.id.clone()]));
    let deleted = history_of(&suite, &ann, &case_id, CaseHistoryKind::AttachmentDeleted).await;
    assert_eq!(deleted, sorted(vec![on_message.id.clone(), on_case.id.clone()]));
}

async fn case_files_are_limited_and_frozen_once_the_case_is_closed(suite: Suite) {
    let (admin, ann, _, case_id) = ann_with_a_case(&suite).await;
    set_attachment_limit(&suite, &admin, 1000).await;
    let to_case = || UploadTo::CaseId(case_id.clone());
    let refused = upload(&suite, &ann, vec![metadata(to_case(), "big.bin", "", 1001, "")]).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::ResourceExhausted, "ATTACHMENT_TOO_LARGE".into()));
    let sly = vec![metadata(to_case(), "sly.bin", "", 900, ""), chunk(&[1; 600]), chunk(&[2; 600])];
    assert_eq!(upload(&suite, &ann, sly).await.unwrap_err().code(), Code::ResourceExhausted);
    assert!(listed(&suite, &ann, files_of(ListOf::CaseId(case_id.clone()), true)).await.unwrap().is_empty());
    let fits = upload_file(&suite, &ann, to_case(), "fits.bin", "", &[7; 1000]).await.unwrap();
    assert_eq!((fits.size_bytes, fits.content_type.as_str()), (1000, "application/octet-stream"));

    let message = post(&suite, &ann, &case_id, "Still jams", false).await;
    transition(&suite, &admin, &case_id, CaseStatus::Resolved, CaseClosureReason::Unspecified).await.unwrap();
    let close = CloseCaseRequest { id: case_id.clone(), ..Default::default() };
    cases(&suite).close_case(authed(close, &ann)).await.unwrap();

    // Closed: no new or deleted file on the case or its messages, but a complaint takes files.
    let closed = |result: Result<(), Status>| {
        let status = result.unwrap_err();
        assert_eq!((status.code(), reason(&status)), (Code::FailedPrecondition, "CASE_CLOSED".into()));
    };
    closed(upload_file(&suite, &ann, to_case(), "late.txt", "text/plain", b"late").await.map(drop));
    let to_message = UploadTo::MessageId(message.id.clone());
    closed(upload_file(&suite, &ann, to_message, "late.txt", "text/plain", b"late").await.map(drop));
    closed(delete(&suite, &ann, &fits.id).await);
    let complaint = post(&suite, &ann, &case_id, "Closed without a fix", true).await;
    let to_complaint = UploadTo::MessageId(complaint.id.clone());
    let evidence = upload_file(&suite, &ann, to_complaint, "jam.jpg", "image/jpeg", b"jpeg").await.unwrap();
    assert_eq!(evidence.message_case_id, case_id);
    // What was attached stays readable.
    assert_eq!(download(&suite, &ann, &fits.id).await.unwrap().1, vec![7; 1000]);
}
