//! Helpers of the attachment tests: streamed uploads and downloads through the gateway.

#![allow(dead_code)]

use portal_proto::case::{
    Attachment, AttachmentUploadMetadata, CaseSettings, DownloadAttachmentRequest, ListAttachmentsRequest,
    UpdateCaseSettingsRequest, UploadAttachmentRequest, attachment_service_client::AttachmentServiceClient,
    attachment_upload_metadata, case_settings_service_client::CaseSettingsServiceClient, download_attachment_response,
    upload_attachment_request::Payload,
};
use portal_tests::{Suite, authed};
use tonic::{Status, transport::Channel};

pub fn attachments(suite: &Suite) -> AttachmentServiceClient<Channel> {
    AttachmentServiceClient::new(suite.channel())
}

/// The first message of an upload of `size` bytes to `parent`.
pub fn metadata(
    parent: attachment_upload_metadata::Parent,
    file_name: &str,
    content_type: &str,
    size: usize,
    sha256: &str,
) -> UploadAttachmentRequest {
    UploadAttachmentRequest {
        payload: Some(Payload::Metadata(AttachmentUploadMetadata {
            parent: Some(parent),
            file_name: file_name.into(),
            content_type: content_type.into(),
            size_bytes: size as i64,
            sha256: sha256.into(),
            request_id: String::new(),
        })),
    }
}

pub fn chunk(bytes: &[u8]) -> UploadAttachmentRequest {
    UploadAttachmentRequest { payload: Some(Payload::Chunk(bytes.to_vec())) }
}

/// Uploads a stream of messages as the holder of `token`.
pub async fn upload(suite: &Suite, token: &str, messages: Vec<UploadAttachmentRequest>) -> Result<Attachment, Status> {
    attachments(suite).upload_attachment(authed(tokio_stream::iter(messages), token)).await.map(|r| r.into_inner())
}

/// Uploads `content` to `parent` in chunks of 100 KiB.
pub async fn upload_file(
    suite: &Suite,
    token: &str,
    parent: attachment_upload_metadata::Parent,
    file_name: &str,
    content_type: &str,
    content: &[u8],
) -> Result<Attachment, Status> {
    let mut messages = vec![metadata(parent, file_name, content_type, content.len(), "")];
    messages.extend(content.chunks(100 * 1024).map(chunk));
    upload(suite, token, messages).await
}

/// Downloads a file: its metadata and content, checking the pieces' size.
pub async fn download(suite: &Suite, token: &str, id: &str) -> Result<(Attachment, Vec<u8>), Status> {
    let request = authed(DownloadAttachmentRequest { id: id.into() }, token);
    let mut stream = attachments(suite).download_attachment(request).await?.into_inner();
    let mut metadata = None;
    let mut content = Vec::new();
    while let Some(message) = stream.message().await? {
        match message.payload {
            Some(download_attachment_response::Payload::Metadata(m)) => {
                assert!(metadata.is_none() && content.is_empty(), "metadata comes first, once");
                metadata = Some(m);
            }
            Some(download_attachment_response::Payload::Chunk(piece)) => {
                assert!(piece.len() <= 256 * 1024);
                content.extend(piece);
            }
            None => panic!("an empty download message"),
        }
    }
    Ok((metadata.expect("metadata"), content))
}

/// The ids of a parent's files (first page), oldest first.
pub async fn listed(suite: &Suite, token: &str, request: ListAttachmentsRequest) -> Result<Vec<String>, Status> {
    let page = attachments(suite).list_attachments(authed(request, token)).await?.into_inner();
    Ok(page.attachments.into_iter().map(|a| a.id).collect())
}

/// Sets the largest file accepted (CaseSettings.max_attachment_bytes).
pub async fn set_attachment_limit(suite: &Suite, admin: &str, bytes: i64) {
    let request = UpdateCaseSettingsRequest {
        settings: Some(CaseSettings { max_attachment_bytes: bytes, ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["max_attachment_bytes".into()] }),
    };
    CaseSettingsServiceClient::new(suite.channel()).update_case_settings(authed(request, admin)).await.unwrap();
}
