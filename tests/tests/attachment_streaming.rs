//! Uploads are streamed to storage in pieces (issue 13 §3): a multi-MiB file comes back
//! byte for byte (its SHA-256 recorded and checked), the size limit is enforced while the
//! content streams, and an upload that is refused or cut off leaves none of its staged
//! pieces behind. How little memory an upload takes is measured, not asserted here
//! (BENCHMARKS.md, `upload-memory`).

#[path = "support/attachments.rs"]
mod support_attachments;
#[path = "support/case.rs"]
mod support_case;

use std::time::Duration;

use portal_proto::case::{
    ListAttachmentsRequest, attachment_upload_metadata::Parent as UploadTo, list_attachments_request::Parent as ListOf,
};
use portal_tests::{Backend, Suite, suite_tests};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection};
use support_attachments::*;
use support_case::*;
use tonic::Code;

suite_tests!(a_multi_mib_file_comes_back_intact, the_limit_holds_while_streaming_and_refusals_leave_nothing);

/// Ann's case: (admin, ann, case id).
async fn ann_with_a_case(suite: &Suite) -> (String, String, String) {
    let admin = suite.admin_token().await;
    let calendar = nine_to_six(suite, &admin, "Office", "UTC", &[]).await;
    let service = service(suite, &admin, "Printing", 240, 600).await;
    agreement(suite, &admin, "Everyone", None, &[&service.id], &calendar.id).await;
    let (_, ann, _) = customer(suite, &admin, "Acme", "ann@acme.test").await;
    let case = open_case(suite, &ann, &service.id, "Big logs").await.unwrap();
    (admin, ann, case.id)
}

/// Content that repeats no 256 KiB piece, of `len` bytes.
fn content(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends `bytes` in chunks of `chunk` bytes after the metadata.
fn messages(
    parent: UploadTo,
    bytes: &[u8],
    declared: usize,
    sha: &str,
    chunk_len: usize,
) -> Vec<portal_proto::case::UploadAttachmentRequest> {
    let mut messages = vec![metadata(parent, "big.bin", "application/octet-stream", declared, sha)];
    messages.extend(bytes.chunks(chunk_len).map(chunk));
    messages
}

/// The pieces staged by uploads not (or not yet) stored, read from case-svc's database.
async fn staged_pieces(suite: &Suite) -> i64 {
    sqlx::any::install_default_drivers();
    let url = match suite.backend {
        Backend::Sqlite => format!("sqlite://{}/case.db?mode=ro", suite.config.data_dir.display()),
        Backend::Postgres => suite.config.database.url.clone(),
    };
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    if suite.backend == Backend::Postgres {
        let path = format!("SET search_path TO \"{}case\"", suite.config.database.schema_prefix);
        sqlx::query(AssertSqlSafe(path)).execute(&mut connection).await.unwrap();
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM attachment_upload_chunks").fetch_one(&mut connection).await.unwrap()
}

/// Waits (bounded) until no staged piece is left: a refused upload deletes its pieces
/// right after answering.
async fn no_staged_pieces_left(suite: &Suite) {
    for _ in 0..100 {
        if staged_pieces(suite).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} staged pieces were left behind", staged_pieces(suite).await);
}

async fn a_multi_mib_file_comes_back_intact(suite: Suite) {
    let (_, ann, case_id) = ann_with_a_case(&suite).await;
    // 5 MiB and a bit: twenty stored pieces and a short last one, sent in chunks that do
    // not line up with the pieces.
    let bytes = content(5 * 1024 * 1024 + 12_345);
    let sha = sha256(&bytes);
    let sent = messages(UploadTo::CaseId(case_id.clone()), &bytes, bytes.len(), &sha, 100_000);
    let stored = upload(&suite, &ann, sent).await.unwrap();
    assert_eq!((stored.size_bytes, stored.sha256.as_str()), (bytes.len() as i64, sha.as_str()));
    let (metadata, downloaded) = download(&suite, &ann, &stored.id).await.unwrap();
    assert_eq!(metadata.sha256, sha);
    assert_eq!(sha256(&downloaded), sha, "the downloaded content has the uploaded checksum");
    assert!(downloaded == bytes, "byte for byte");
    assert_eq!(staged_pieces(&suite).await, 0, "storing the file took its staged pieces");

    // Without a declared checksum the server's is recorded; one-byte chunks work too.
    let small = content(3000);
    let sent = messages(UploadTo::CaseId(case_id), &small, small.len(), "", 1);
    let stored = upload(&suite, &ann, sent).await.unwrap();
    assert_eq!(stored.sha256, sha256(&small));
    assert_eq!(download(&suite, &ann, &stored.id).await.unwrap().1, small);
}

async fn the_limit_holds_while_streaming_and_refusals_leave_nothing(suite: Suite) {
    let (admin, ann, case_id) = ann_with_a_case(&suite).await;
    let limit = 2 * 1024 * 1024;
    set_attachment_limit(&suite, &admin, limit as i64).await;
    let to_case = || UploadTo::CaseId(case_id.clone());
    let listed_files = || async {
        let request = ListAttachmentsRequest { parent: Some(ListOf::CaseId(case_id.clone())), ..Default::default() };
        listed(&suite, &ann, request).await.unwrap()
    };

    // A declared size over the limit is refused before any byte is read.
    let over = content(limit + 1);
    let refused = upload(&suite, &ann, messages(to_case(), &over, over.len(), "", 65_536)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::ResourceExhausted, "ATTACHMENT_TOO_LARGE"));

    // A stream that declares the limit but sends more is refused as it passes the limit,
    // after pieces were staged; the pieces are deleted.
    let refused = upload(&suite, &ann, messages(to_case(), &over, limit, "", 65_536)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::ResourceExhausted, "ATTACHMENT_TOO_LARGE"));
    no_staged_pieces_left(&suite).await;
    // One that sends more than it declared, under the limit, too.
    let refused = upload(&suite, &ann, messages(to_case(), &over[..limit], limit / 2, "", 65_536)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    no_staged_pieces_left(&suite).await;

    // A wrong checksum stores nothing either.
    let exact = content(limit);
    let wrong = sha256(b"something else");
    let refused = upload(&suite, &ann, messages(to_case(), &exact, exact.len(), &wrong, 65_536)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    no_staged_pieces_left(&suite).await;

    // A client that goes away mid-upload leaves nothing either.
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let mut client = attachments(&suite);
    let token = ann.clone();
    let call = tokio::spawn(async move {
        let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
        client.upload_attachment(portal_tests::authed(stream, &token)).await
    });
    sender.send(metadata(to_case(), "cut.bin", "application/octet-stream", exact.len(), "")).await.unwrap();
    for piece in exact[..limit / 2].chunks(65_536) {
        sender.send(chunk(piece)).await.unwrap();
    }
    while staged_pieces(&suite).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    call.abort();
    drop(sender);
    no_staged_pieces_left(&suite).await;

    // Exactly the limit is accepted.
    let stored = upload(&suite, &ann, messages(to_case(), &exact, exact.len(), "", 65_536)).await.unwrap();
    assert_eq!(stored.size_bytes, limit as i64);
    assert_eq!(listed_files().await, vec![stored.id], "only the accepted file is stored");
}
