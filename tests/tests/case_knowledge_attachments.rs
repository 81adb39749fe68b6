//! Files of knowledge-base articles through the gateway (issue 6, seed 003 "Working with the
//! portal knowledge base": the [Files] tab): client-streamed uploads held against the size
//! limit, content type and size recorded, server-streamed downloads, nothing stored from a
//! refused upload.

#[path = "support/attachments.rs"]
mod support_attachments;
#[path = "support/knowledge.rs"]
mod support_knowledge;

use portal_proto::case::{
    Article, ArticleType, DeleteArticleRequest, DeleteAttachmentRequest, GetArticleRequest, ListAttachmentsRequest,
    UploadAttachmentRequest, attachment_service_client::AttachmentServiceClient, attachment_upload_metadata,
    list_attachments_request, upload_attachment_request::Payload,
};
use portal_tests::{Suite, authed, suite_tests};
use support_attachments::{chunk, download, set_attachment_limit, upload};
use support_knowledge::*;
use tonic::Code;

suite_tests!(
    article_files_upload_in_chunks_and_download_as_a_stream,
    uploads_over_the_limit_or_malformed_are_refused_and_store_nothing,
);

fn metadata(article: &Article, file_name: &str, size: usize, sha256: &str) -> UploadAttachmentRequest {
    let parent = attachment_upload_metadata::Parent::ArticleId(article.id.clone());
    support_attachments::metadata(parent, file_name, "application/pdf", size, sha256)
}

async fn files_of(suite: &Suite, token: &str, article: &Article) -> usize {
    let request = ListAttachmentsRequest {
        parent: Some(list_attachments_request::Parent::ArticleId(article.id.clone())),
        ..Default::default()
    };
    let mut client = AttachmentServiceClient::new(suite.channel());
    client.list_attachments(authed(request, token)).await.unwrap().into_inner().attachments.len()
}

async fn article_files_upload_in_chunks_and_download_as_a_stream(suite: Suite) {
    let admin = suite.admin_token().await;
    let (_, reader) = external_user(&suite, &admin, "files@example.com").await;
    let article = create_article(&suite, &admin, draft("Guide", ArticleType::DocumentTemplate, "", &[])).await.unwrap();
    let content: Vec<u8> = (0..600 * 1024).map(|i| (i % 251) as u8).collect();
    let mut messages = vec![metadata(&article, "C:\\docs\\guide.pdf", content.len(), "")];
    messages.extend(content.chunks(250 * 1024).map(chunk));
    let stored = upload(&suite, &admin, messages).await.unwrap();
    assert_eq!(
        (stored.file_name.as_str(), stored.content_type.as_str(), stored.size_bytes),
        ("guide.pdf", "application/pdf", content.len() as i64)
    );
    assert_eq!(stored.sha256.len(), 64, "the SHA-256 of the content is recorded");
    let mut checked = vec![metadata(&article, "checked.pdf", content.len(), &stored.sha256)];
    checked.extend(content.chunks(1 << 20).map(chunk));
    let same = upload(&suite, &admin, checked).await.expect("the recorded checksum is the content's");

    // Every reader of the article lists and downloads it.
    let (metadata_read, downloaded) = download(&suite, &reader, &stored.id).await.unwrap();
    assert_eq!(metadata_read.id, stored.id);
    assert!(downloaded == content, "the download returns the uploaded bytes");
    assert_eq!(files_of(&suite, &reader, &article).await, 2);
    let read = knowledge(&suite).get_article(authed(GetArticleRequest { id: article.id.clone() }, &reader)).await;
    let read = read.unwrap().into_inner();
    let files: Vec<_> = read.attachments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(files, [stored.id.as_str(), same.id.as_str()], "GetArticle shows its files, oldest first");

    // Only those who may change the article attach to it or delete others' files.
    let refused = upload(&suite, &reader, vec![metadata(&article, "mine.pdf", 1, ""), chunk(b"x")]).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut client = AttachmentServiceClient::new(suite.channel());
    let delete = DeleteAttachmentRequest { id: stored.id.clone() };
    assert_eq!(
        client.delete_attachment(authed(delete.clone(), &reader)).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    client.delete_attachment(authed(delete, &admin)).await.unwrap();
    assert_eq!(download(&suite, &reader, &stored.id).await.unwrap_err().code(), Code::NotFound);

    // A retried upload stores once; deleting the article deletes its files.
    let mut retried = metadata(&article, "again.pdf", 3, "");
    if let Some(Payload::Metadata(m)) = &mut retried.payload {
        m.request_id = "upload-1".into();
    }
    let first = upload(&suite, &admin, vec![retried.clone(), chunk(b"abc")]).await.unwrap();
    let second = upload(&suite, &admin, vec![retried, chunk(b"abc")]).await.unwrap();
    assert_eq!(first.id, second.id);
    let request = DeleteArticleRequest { id: article.id.clone(), etag: String::new() };
    knowledge(&suite).delete_article(authed(request, &admin)).await.unwrap();
    assert_eq!(download(&suite, &admin, &first.id).await.unwrap_err().code(), Code::NotFound);
}

async fn uploads_over_the_limit_or_malformed_are_refused_and_store_nothing(suite: Suite) {
    let admin = suite.admin_token().await;
    let article = create_article(&suite, &admin, draft("Limits", ArticleType::General, "", &[])).await.unwrap();
    set_attachment_limit(&suite, &admin, 1000).await;

    // Refused from the declared size, before any byte.
    let refused = upload(&suite, &admin, vec![metadata(&article, "big.pdf", 1001, "")]).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused)), (Code::ResourceExhausted, "ATTACHMENT_TOO_LARGE".into()));
    assert!(refused.message().contains("1000"), "the error names the limit: {}", refused.message());
    // Refused as soon as the bytes pass the limit, whatever was declared.
    let messages = vec![metadata(&article, "sly.pdf", 900, ""), chunk(&[1; 600]), chunk(&[2; 600])];
    let refused = upload(&suite, &admin, messages).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    // Malformed uploads name their field.
    let short = vec![metadata(&article, "short.pdf", 10, ""), chunk(&[1; 5])];
    let refused = upload(&suite, &admin, short).await.unwrap_err();
    assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["metadata.size_bytes".to_owned()]));
    let wrong_sum = vec![metadata(&article, "sum.pdf", 3, &"0".repeat(64)), chunk(b"abc")];
    let refused = upload(&suite, &admin, wrong_sum).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["metadata.sha256"]);
    let headless = upload(&suite, &admin, vec![chunk(b"abc")]).await.unwrap_err();
    assert_eq!((headless.code(), bad_fields(&headless)), (Code::InvalidArgument, vec!["metadata".to_owned()]));
    let unknown = Article { id: "no-such-article".into(), ..Default::default() };
    let refused = upload(&suite, &admin, vec![metadata(&unknown, "a.pdf", 1, ""), chunk(b"a")]).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(files_of(&suite, &admin, &article).await, 0, "nothing was stored");

    let fits = vec![metadata(&article, "fits.pdf", 1000, ""), chunk(&[7; 1000])];
    assert_eq!(upload(&suite, &admin, fits).await.unwrap().size_bytes, 1000);
    assert_eq!(files_of(&suite, &admin, &article).await, 1);
}
