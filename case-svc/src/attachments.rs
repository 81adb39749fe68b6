//! Attachment use cases for every parent (cases, case messages, articles): who may
//! attach, read and delete follows the parent, decided in [`Attachments::authorize`];
//! the size limit is the case settings' `max_attachment_bytes`.
//!
//! A case's files follow the case's own access (an unreachable case is NOT_FOUND, as in
//! every case rpc): reading needs Read on the case, attaching Update; a message's files
//! are attached by the message's author or staff. Files of a Closed or Canceled case (or
//! of a regular message on one) no longer change; a complaint's files do, as complaints
//! are accepted on any case. Adding or deleting a case's file is kept in its history.
//!
//! An upload's content is never held whole: [`Staged`] counts it against the declared size
//! and the limit as it arrives, hashes it and stages it in the database a stored piece at
//! a time; storing the file moves the staged pieces in one transaction.

use std::time::Duration;

use portal_proto::access::ObjectOperation;
use service_kit::{
    ApiError, Caller, Shutdown,
    clock::{Clock, Millis},
    secrets,
};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::{
    case_access,
    cases::{Cases, history},
    domain::{
        CaseError,
        attachments::{AttachmentError, Parent, Receipt, STORED_CHUNK_BYTES},
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

/// A validated upload's metadata; its content arrives into a [`Staged`].
#[derive(Debug, Clone)]
pub struct Upload {
    pub parent: Parent,
    pub file_name: String,
    pub content_type: String,
    pub sha256: String,
    pub request_id: String,
}

/// How long staged pieces of an unfinished upload are kept before the sweep deletes them:
/// longer than any upload may run. An upload that fails or is dropped deletes its own at
/// once; the sweep is for what a stopped process left.
const STAGED_FOR_MS: Millis = 24 * 3600 * 1000;

/// How often the sweep of staged pieces runs.
const STAGED_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The content of an upload as it arrives: counted against the declared size and the
/// limit, hashed, and staged in the database one stored piece at a time, so at most one
/// piece of it is in memory. Dropped before its file is stored, it deletes what it staged.
#[derive(Debug)]
pub struct Staged {
    store: AttachmentStore,
    clock: Clock,
    id: String,
    receipt: Receipt,
    hasher: Sha256,
    piece: Vec<u8>,
    pieces: i64,
    /// The piece being staged, on a task of its own: a dropped upload must not leave a
    /// write in flight that lands after its pieces were deleted.
    staging: Option<JoinHandle<Result<(), AttachmentError>>>,
    stored: bool,
}

impl Staged {
    /// Takes a chunk of the content; refuses it as soon as the content passes the limit
    /// or the declared size.
    pub async fn push(&mut self, mut chunk: &[u8]) -> Result<(), AttachmentError> {
        self.receipt.add(chunk.len())?;
        self.hasher.update(chunk);
        while !chunk.is_empty() {
            let take = (STORED_CHUNK_BYTES - self.piece.len()).min(chunk.len());
            self.piece.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.piece.len() == STORED_CHUNK_BYTES {
                self.stage_piece().await?;
            }
        }
        Ok(())
    }

    async fn stage_piece(&mut self) -> Result<(), AttachmentError> {
        if self.piece.is_empty() {
            return Ok(());
        }
        let (store, id, seq, now) = (self.store.clone(), self.id.clone(), self.pieces, self.clock.now());
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(STORED_CHUNK_BYTES));
        self.pieces += 1;
        let staging = self.staging.insert(tokio::spawn(async move { store.stage(&id, seq, &piece, now).await }));
        let staged = staging.await.map_err(|e| AttachmentError::Api(ApiError::internal(e)))?;
        self.staging = None;
        staged
    }

    /// Ends the content: checks that exactly the declared bytes arrived, stages the last
    /// piece and returns the content's SHA-256 in lowercase hexadecimal.
    pub async fn finish(&mut self) -> Result<String, AttachmentError> {
        self.receipt.finish()?;
        self.stage_piece().await?;
        Ok(self.hasher.finalize_reset().iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.stored || self.pieces == 0 {
            return;
        }
        let (store, id, staging) = (self.store.clone(), std::mem::take(&mut self.id), self.staging.take());
        tokio::spawn(async move {
            if let Some(staging) = staging {
                let _ = staging.await;
            }
            if let Err(error) = store.discard(&id).await {
                tracing::warn!(%error, upload_id = id, "an unfinished upload's pieces stay until the sweep");
            }
        });
    }
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

    /// Starts receiving the content of an upload declared `declared` bytes long; refuses a
    /// declared size over the limit before any byte is read.
    pub async fn receive(&self, declared: i64) -> Result<Staged, AttachmentError> {
        Ok(Staged {
            store: self.store.clone(),
            clock: self.clock.clone(),
            id: secrets::new_id(),
            receipt: Receipt::start(declared, self.limit().await?)?,
            hasher: Sha256::new(),
            piece: Vec::with_capacity(STORED_CHUNK_BYTES),
            pieces: 0,
            staging: None,
            stored: false,
        })
    }

    /// Deletes the staged pieces of uploads a stopped process left, hourly, until shutdown.
    pub async fn sweep_staged(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            match self.store.discard_staged_before(self.clock.now() - STAGED_FOR_MS).await {
                Ok(0) => {}
                Ok(pieces) => tracing::info!(pieces, "pieces of unfinished uploads deleted"),
                Err(error) => tracing::warn!(%error, "the sweep of unfinished uploads failed; trying again"),
            }
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = tokio::time::sleep(STAGED_SWEEP_EVERY) => {}
            }
        }
    }

    /// Stores a received upload, its content the finished `content`; a retried upload
    /// with the same request id returns the first file. Authorized again as it ends: the
    /// case may have closed meanwhile.
    pub async fn store(
        &self,
        caller: &Caller,
        upload: &Upload,
        content: &mut Staged,
    ) -> Result<AttachmentRecord, AttachmentError> {
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
            upload_id: &content.id,
            size_bytes: content.receipt.received(),
            history: entry.as_ref(),
        };
        let id = match self.store.insert(&file, key, now, now - DAY_MS).await? {
            Created::New(id) => {
                content.stored = true;
                id
            }
            Created::Earlier(id) => id,
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
