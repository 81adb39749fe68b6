//! Attachment use cases for every parent (cases, case messages, articles): who may
//! attach, read and delete follows the parent, decided in [`Attachments::authorize`];
//! the size limit is the case settings' `max_attachment_bytes`.
//!
//! A case's files follow the case's own access (an unreachable case is NOT_FOUND, as in
//! every case rpc): reading needs Read on the case, attaching Update; a message's files
//! are attached by the message's author or staff. Files of a Closed or Canceled case (or
//! of a regular message on one) no longer change; a complaint's files do, as complaints
//! are accepted on any case. Adding or deleting a case's file is kept in its history.

use portal_proto::access::ObjectOperation;
use service_kit::{ApiError, Caller, clock::Clock, secrets};

use crate::{
    case_access,
    cases::{Cases, history},
    domain::{
        CaseError,
        attachments::{AttachmentError, Parent},
        knowledge::DAY_MS,
        status::CaseStatus,
    },
    knowledge::KnowledgeBase,
    storage::{
        CaseRecord,
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

/// The case a parent belongs to, when it is a case or a case message.
#[derive(Debug, Clone)]
struct CaseOf {
    case: CaseRecord,
    /// Whether the parent is a complaint message, whose files may change on any case.
    complaint: bool,
}

impl CaseOf {
    /// Refuses a change to the files of a Closed or Canceled case, except a complaint's.
    fn check_open(&self) -> Result<(), AttachmentError> {
        Ok(CaseStatus::parse(&self.case.status).unwrap_or(CaseStatus::New).check_postable(self.complaint)?)
    }
}

#[derive(Debug, Clone)]
pub struct Attachments {
    pub store: AttachmentStore,
    pub knowledge: KnowledgeBase,
    pub cases: Cases,
    pub clock: Clock,
}

fn attachment_not_found(id: &str) -> AttachmentError {
    AttachmentError::NotFound("attachment", id.to_owned())
}

impl From<CaseError> for AttachmentError {
    fn from(error: CaseError) -> Self {
        AttachmentError::Api(error.into())
    }
}

impl Attachments {
    /// Checks that the caller may `use` the files of `parent`, which must exist.
    pub async fn authorize(&self, caller: &Caller, parent: &Parent, use_: Use) -> Result<(), AttachmentError> {
        self.case_of(caller, parent, use_).await.map(drop)
    }

    /// Authorizes `use_` of `parent`'s files and returns the case it belongs to, if any.
    async fn case_of(&self, caller: &Caller, parent: &Parent, use_: Use) -> Result<Option<CaseOf>, AttachmentError> {
        let operation = if use_ == Use::Read { ObjectOperation::Read } else { ObjectOperation::Update };
        let of = match parent {
            Parent::Article(id) => {
                self.knowledge
                    .require_article(caller, id, operation)
                    .await
                    .map_err(|e| AttachmentError::Api(e.into()))?;
                return Ok(None);
            }
            Parent::Case(id) => CaseOf { case: self.cases.reachable(caller, id, operation).await?, complaint: false },
            Parent::Message(id) => {
                let not_found = || AttachmentError::NotFound("case message", id.clone());
                let message = self.cases.store.message(id).await?.ok_or_else(not_found)?;
                let case = match self.cases.reachable(caller, &message.case_id, operation).await {
                    Err(CaseError::NotFound { .. }) => return Err(not_found()),
                    reached => reached?,
                };
                if use_ == Use::Write && message.author_user_id != caller.user_id && !case_access::is_staff(caller) {
                    return Err(AttachmentError::Denied(
                        "NOT_MESSAGE_AUTHOR",
                        "only the message's author (or staff) may attach files to it".into(),
                    ));
                }
                CaseOf { case, complaint: message.is_complaint != 0 }
            }
        };
        if use_ == Use::Write {
            of.check_open()?;
        }
        Ok(Some(of))
    }

    /// The largest file accepted now.
    pub async fn limit(&self) -> Result<i64, AttachmentError> {
        let settings = self.cases.settings.get().await.map_err(|e| AttachmentError::Api(e.into()))?;
        Ok(settings.max_attachment_bytes)
    }

    /// Stores a received upload; a retried upload with the same request id returns the
    /// first file. Authorized again as it ends: the case may have closed meanwhile.
    pub async fn store(&self, caller: &Caller, upload: &Upload) -> Result<AttachmentRecord, AttachmentError> {
        let of = self.case_of(caller, &upload.parent, Use::Write).await?;
        let now = self.clock.now();
        let id = secrets::new_id();
        let entry = of.as_ref().map(|of| {
            let mut entry = history(&of.case, now, &caller.user_id, "attachment_added");
            entry.related_id = id.clone();
            entry
        });
        let message_case_id = match (&upload.parent, &of) {
            (Parent::Message(_), Some(of)) => of.case.id.as_str(),
            _ => "",
        };
        let key = RequestKey { user_id: &caller.user_id, kind: "attachment", request_id: &upload.request_id };
        let file = NewAttachment {
            id: &id,
            parent: &upload.parent,
            message_case_id,
            file_name: &upload.file_name,
            content_type: &upload.content_type,
            sha256: &upload.sha256,
            uploader_user_id: &caller.user_id,
            content: &upload.content,
            history: entry.as_ref(),
        };
        let id = match self.store.insert(&file, key, now, now - DAY_MS).await? {
            Created::New(id) | Created::Earlier(id) => id,
        };
        self.store.attachment(&id).await?.ok_or_else(|| attachment_not_found(&id))
    }

    /// An attachment whose parent the caller may read.
    pub async fn readable(&self, caller: &Caller, id: &str) -> Result<AttachmentRecord, AttachmentError> {
        Ok(self.readable_of(caller, id).await?.0)
    }

    /// An attachment whose parent the caller may read, with the parent's case if any.
    async fn readable_of(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(AttachmentRecord, Option<CaseOf>), AttachmentError> {
        let attachment = self.store.attachment(id).await?.ok_or_else(|| attachment_not_found(id))?;
        let of = match self.case_of(caller, &parent_of(&attachment)?, Use::Read).await {
            Err(AttachmentError::NotFound(..) | AttachmentError::Api(ApiError::NotFound { .. })) => {
                return Err(attachment_not_found(id));
            }
            of => of?,
        };
        Ok((attachment, of))
    }

    /// A page of the parent's files, oldest first; with `with_messages`, a case's page
    /// also holds the files of its messages.
    pub async fn list(
        &self,
        caller: &Caller,
        parent: &Parent,
        with_messages: bool,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<AttachmentRecord>, AttachmentError> {
        self.authorize(caller, parent, Use::Read).await?;
        let with_messages = with_messages && matches!(parent, Parent::Case(_));
        self.store.list(parent, with_messages, after, limit).await
    }

    /// Deletes a file: its uploader may, and so may whoever may write the parent's files
    /// (for a case's files, staff only); never a file of a Closed or Canceled case.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), AttachmentError> {
        let (attachment, of) = self.readable_of(caller, id).await?;
        if let Some(of) = &of {
            of.check_open()?;
        }
        if attachment.uploader_user_id != caller.user_id {
            let editor = of.is_none() || case_access::is_staff(caller);
            let may_write = editor && self.authorize(caller, &parent_of(&attachment)?, Use::Write).await.is_ok();
            if !may_write {
                return Err(AttachmentError::Denied(
                    "NOT_UPLOADER",
                    "only its uploader or an editor of its parent may delete a file".into(),
                ));
            }
        }
        let entry = of.map(|of| {
            let mut entry = history(&of.case, self.clock.now(), &caller.user_id, "attachment_deleted");
            entry.related_id = id.to_owned();
            entry
        });
        if self.store.delete(id, entry.as_ref()).await? { Ok(()) } else { Err(attachment_not_found(id)) }
    }
}

/// The parent a stored attachment belongs to.
pub fn parent_of(attachment: &AttachmentRecord) -> Result<Parent, AttachmentError> {
    Parent::from_stored(&attachment.parent_kind, &attachment.parent_id)
        .ok_or_else(|| AttachmentError::Corrupt(format!("attachment parent kind '{}'", attachment.parent_kind)))
}
