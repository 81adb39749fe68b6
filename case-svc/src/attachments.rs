//! Attachment use cases for every parent (cases, case messages, articles): who may
//! attach, read and delete follows the parent, decided in [`Attachments::authorize`];
//! the size limit is the case settings' `max_attachment_bytes`.
//!
//! Articles are served; cases and messages answer UNIMPLEMENTED until the case half
//! decides their rights in `authorize` (the storage, upload and download are shared).

use portal_proto::access::ObjectOperation;
use service_kit::{Caller, clock::Clock};

use crate::{
    domain::{
        attachments::{AttachmentError, Parent},
        knowledge::DAY_MS,
    },
    knowledge::KnowledgeBase,
    settings::Settings,
    storage::{
        attachments::{AttachmentRecord, AttachmentStore, NewAttachment},
        knowledge::{Created, RequestKey},
    },
};

/// What the caller wants to do with a parent's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// List and download.
    Read,
    /// Upload, or delete another user's file.
    Write,
}

/// A validated upload, its content received whole.
#[derive(Debug, Clone)]
pub struct Upload {
    pub parent: Parent,
    pub file_name: String,
    pub content_type: String,
    pub sha256: String,
    pub request_id: String,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Attachments {
    pub store: AttachmentStore,
    pub knowledge: KnowledgeBase,
    pub settings: Settings,
    pub clock: Clock,
}

fn attachment_not_found(id: &str) -> AttachmentError {
    AttachmentError::NotFound("attachment", id.to_owned())
}

impl Attachments {
    /// Checks that the caller may `use` the files of `parent`, which must exist.
    pub async fn authorize(&self, caller: &Caller, parent: &Parent, use_: Use) -> Result<(), AttachmentError> {
        match parent {
            Parent::Article(id) => {
                let operation = if use_ == Use::Read { ObjectOperation::Read } else { ObjectOperation::Update };
                Ok(self
                    .knowledge
                    .require_article(caller, id, operation)
                    .await
                    .map_err(|e| AttachmentError::Api(e.into()))?)
            }
            Parent::Case(_) | Parent::Message(_) => Err(AttachmentError::NotServed(
                "files of cases and case messages are not served yet; article files are".into(),
            )),
        }
    }

    /// The largest file accepted now.
    pub async fn limit(&self) -> Result<i64, AttachmentError> {
        let settings = self.settings.get().await.map_err(|e| AttachmentError::Api(e.into()))?;
        Ok(settings.max_attachment_bytes)
    }

    /// Stores a received upload (authorized when it started); a retried upload with the
    /// same request id returns the first file.
    pub async fn store(&self, caller: &Caller, upload: &Upload) -> Result<AttachmentRecord, AttachmentError> {
        let now = self.clock.now();
        let key = RequestKey { user_id: &caller.user_id, kind: "attachment", request_id: &upload.request_id };
        let file = NewAttachment {
            parent: &upload.parent,
            message_case_id: "",
            file_name: &upload.file_name,
            content_type: &upload.content_type,
            sha256: &upload.sha256,
            uploader_user_id: &caller.user_id,
            content: &upload.content,
        };
        let id = match self.store.insert(&file, key, now, now - DAY_MS).await? {
            Created::New(id) | Created::Earlier(id) => id,
        };
        self.store.attachment(&id).await?.ok_or_else(|| attachment_not_found(&id))
    }

    /// An attachment whose parent the caller may read.
    pub async fn readable(&self, caller: &Caller, id: &str) -> Result<AttachmentRecord, AttachmentError> {
        let attachment = self.store.attachment(id).await?.ok_or_else(|| attachment_not_found(id))?;
        self.authorize(caller, &parent_of(&attachment)?, Use::Read).await?;
        Ok(attachment)
    }

    /// A page of the parent's files, oldest first.
    pub async fn list(
        &self,
        caller: &Caller,
        parent: &Parent,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<AttachmentRecord>, AttachmentError> {
        self.authorize(caller, parent, Use::Read).await?;
        self.store.list(parent, after, limit).await
    }

    /// Deletes a file: its uploader may, and so may whoever may write the parent's files.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), AttachmentError> {
        let attachment = self.readable(caller, id).await?;
        if attachment.uploader_user_id != caller.user_id {
            self.authorize(caller, &parent_of(&attachment)?, Use::Write).await.map_err(|_| {
                AttachmentError::Denied(
                    "NOT_UPLOADER",
                    "only its uploader or an editor of its parent may delete a file".into(),
                )
            })?;
        }
        if self.store.delete(id).await? { Ok(()) } else { Err(attachment_not_found(id)) }
    }
}

/// The parent a stored attachment belongs to.
pub fn parent_of(attachment: &AttachmentRecord) -> Result<Parent, AttachmentError> {
    Parent::from_stored(&attachment.parent_kind, &attachment.parent_id)
        .ok_or_else(|| AttachmentError::Corrupt(format!("attachment parent kind '{}'", attachment.parent_kind)))
}
