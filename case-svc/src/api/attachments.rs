//! `portal.case.v1.AttachmentService`: client-streamed uploads held against the size
//! limit and staged in pieces as they arrive, server-streamed downloads, lists and deletes.

use std::pin::Pin;

use portal_proto::case::{
    self as pb, attachment_service_server::AttachmentService, download_attachment_response, upload_attachment_request,
};
use service_kit::{ApiError, Caller, clock::to_timestamp, error::Violations, paging, validate};
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    attachments::{Attachments, Upload, Use},
    domain::attachments::{self as rules, AttachmentError, Parent},
    storage::attachments::AttachmentRecord,
};

#[derive(Debug, Clone)]
pub struct AttachmentApi {
    pub attachments: Attachments,
}

fn status(error: AttachmentError) -> Status {
    ApiError::from(error).into()
}

fn invalid(field: &str, problem: &str) -> Status {
    ApiError::invalid(field, problem).into()
}

pub fn attachment_to_proto(attachment: AttachmentRecord) -> pb::Attachment {
    let parent = match attachment.parent_kind.as_str() {
        "case" => Some(pb::attachment::Parent::CaseId(attachment.parent_id)),
        "message" => Some(pb::attachment::Parent::MessageId(attachment.parent_id)),
        "article" => Some(pb::attachment::Parent::ArticleId(attachment.parent_id)),
        _ => None,
    };
    pb::Attachment {
        id: attachment.id,
        parent,
        file_name: attachment.file_name,
        content_type: attachment.content_type,
        size_bytes: attachment.size_bytes,
        sha256: attachment.sha256,
        uploader_user_id: attachment.uploader_user_id,
        create_time: Some(to_timestamp(attachment.created_at)),
        message_case_id: attachment.message_case_id,
    }
}

fn upload_parent(parent: Option<pb::attachment_upload_metadata::Parent>) -> Result<Option<Parent>, Status> {
    use pb::attachment_upload_metadata::Parent as P;
    Ok(match parent {
        Some(P::CaseId(id)) if !id.is_empty() => {
            validate::id("metadata.case_id", &id)?;
            Some(Parent::Case(id))
        }
        Some(P::MessageId(id)) if !id.is_empty() => {
            validate::id("metadata.message_id", &id)?;
            Some(Parent::Message(id))
        }
        Some(P::ArticleId(id)) if !id.is_empty() => {
            validate::id("metadata.article_id", &id)?;
            Some(Parent::Article(id))
        }
        _ => None,
    })
}

fn list_parent(parent: Option<pb::list_attachments_request::Parent>) -> Result<Option<Parent>, Status> {
    use pb::list_attachments_request::Parent as P;
    Ok(match parent {
        Some(P::CaseId(id)) if !id.is_empty() => {
            validate::id("case_id", &id)?;
            Some(Parent::Case(id))
        }
        Some(P::MessageId(id)) if !id.is_empty() => {
            validate::id("message_id", &id)?;
            Some(Parent::Message(id))
        }
        Some(P::ArticleId(id)) if !id.is_empty() => {
            validate::id("article_id", &id)?;
            Some(Parent::Article(id))
        }
        _ => None,
    })
}

/// Validates an upload's metadata; returns it without the content.
fn upload_of(metadata: pb::AttachmentUploadMetadata) -> Result<Upload, Status> {
    let mut violations = Violations::new();
    let parent = upload_parent(metadata.parent)?;
    if parent.is_none() {
        violations.add("metadata.parent", "name the case_id, message_id or article_id to attach to");
    }
    let file_name = violations.check("metadata.file_name", rules::file_name(&metadata.file_name));
    let content_type = violations.check("metadata.content_type", rules::content_type(&metadata.content_type));
    violations.check("metadata.sha256", rules::check_sha256(&metadata.sha256));
    violations.check("metadata.request_id", crate::domain::knowledge::check_request_id(&metadata.request_id));
    violations.finish()?;
    match (parent, file_name, content_type) {
        (Some(parent), Some(file_name), Some(content_type)) => {
            Ok(Upload { parent, file_name, content_type, sha256: metadata.sha256, request_id: metadata.request_id })
        }
        _ => Err(ApiError::internal("validated upload lacks a field").into()),
    }
}

type Download = Pin<Box<dyn Stream<Item = Result<pb::DownloadAttachmentResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AttachmentService for AttachmentApi {
    async fn upload_attachment(
        &self,
        request: Request<Streaming<pb::UploadAttachmentRequest>>,
    ) -> Result<Response<pb::Attachment>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let mut stream = request.into_inner();
        let Some(upload_attachment_request::Payload::Metadata(metadata)) =
            stream.message().await?.and_then(|m| m.payload)
        else {
            return Err(invalid("metadata", "the first message of the stream must carry the metadata"));
        };
        let declared = metadata.size_bytes;
        let mut upload = upload_of(metadata)?;
        self.attachments.authorize(&caller, &upload.parent, Use::Write).await.map_err(status)?;
        let mut content = self.attachments.receive(declared).await.map_err(status)?;
        while let Some(message) = stream.message().await? {
            match message.payload {
                Some(upload_attachment_request::Payload::Chunk(chunk)) => {
                    content.push(&chunk).await.map_err(status)?;
                }
                Some(upload_attachment_request::Payload::Metadata(_)) => {
                    return Err(invalid("metadata", "was sent twice; send it once, first"));
                }
                None => return Err(invalid("chunk", "every message after the metadata must carry a chunk")),
            }
        }
        let digest = content.finish().await.map_err(status)?;
        if !upload.sha256.is_empty() && upload.sha256 != digest {
            return Err(invalid("metadata.sha256", "does not match the received bytes; nothing was stored"));
        }
        upload.sha256 = digest;
        let stored = self.attachments.store(&caller, &upload, &mut content).await.map_err(status)?;
        Ok(Response::new(attachment_to_proto(stored)))
    }

    async fn download_attachment(
        &self,
        request: Request<pb::DownloadAttachmentRequest>,
    ) -> Result<Response<Download>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        let attachment = self.attachments.readable(&caller, &id).await.map_err(status)?;
        let store = self.attachments.store.clone();
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let metadata = download_attachment_response::Payload::Metadata(attachment_to_proto(attachment));
            if sender.send(Ok(pb::DownloadAttachmentResponse { payload: Some(metadata) })).await.is_err() {
                return;
            }
            for seq in 0.. {
                let message = match store.piece(&id, seq).await {
                    Ok(Some(piece)) => Ok(pb::DownloadAttachmentResponse {
                        payload: Some(download_attachment_response::Payload::Chunk(piece)),
                    }),
                    Ok(None) => return,
                    Err(error) => Err(status(error)),
                };
                let failed = message.is_err();
                // A closed channel means the client went away: stop reading.
                if sender.send(message).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn list_attachments(
        &self,
        request: Request<pb::ListAttachmentsRequest>,
    ) -> Result<Response<pb::ListAttachmentsResponse>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let r = request.into_inner();
        let Some(parent) = list_parent(r.parent)? else {
            return Err(invalid("parent", "name the case_id, message_id or article_id whose files to list"));
        };
        let size = paging::page_size(r.page_size)?;
        let after = paging::position(&r.page_token)?;
        let mut rows = self
            .attachments
            .list(&caller, &parent, r.include_message_attachments, after, size + 1)
            .await
            .map_err(status)?;
        let next_page_token = paging::next_page(&mut rows, size, |a| (a.created_at, &a.id));
        Ok(Response::new(pb::ListAttachmentsResponse {
            attachments: rows.into_iter().map(attachment_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn delete_attachment(&self, request: Request<pb::DeleteAttachmentRequest>) -> Result<Response<()>, Status> {
        let caller = Caller::user_of(&request)?.clone();
        let id = request.into_inner().id;
        validate::id("id", &id)?;
        self.attachments.delete(&caller, &id).await.map_err(status)?;
        Ok(Response::new(()))
    }
}
