//! Attachments' rules: what a valid upload is (file name, content type, checksum),
//! how big its pieces may be, and how the received bytes are held against the declared
//! size and the configured limit. Plain Rust: no tonic, no SQL.

use service_kit::{ApiError, db::DbError};

/// The largest chunk an upload may send.
pub const MAX_UPLOAD_CHUNK_BYTES: usize = 1 << 20;
/// The size of the pieces a file is stored and downloaded in.
pub const STORED_CHUNK_BYTES: usize = 256 * 1024;
/// The longest file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// The content type of an upload that names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// What a file is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Case(String),
    Message(String),
    Article(String),
}

impl Parent {
    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Parent::Case(_) => "case",
            Parent::Message(_) => "message",
            Parent::Article(_) => "article",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Parent::Case(id) | Parent::Message(id) | Parent::Article(id) => id,
        }
    }

    /// The parent of a stored kind and id.
    pub fn from_stored(kind: &str, id: &str) -> Option<Self> {
        let id = id.to_owned();
        match kind {
            "case" => Some(Parent::Case(id)),
            "message" => Some(Parent::Message(id)),
            "article" => Some(Parent::Article(id)),
            _ => None,
        }
    }
}

/// What can go wrong with attachments.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// Bad input in one field (field, problem).
    #[error("{0} {1}")]
    Invalid(&'static str, String),
    /// The file is larger than the configured limit.
    #[error(
        "the file is larger than the limit of {limit} bytes (CaseSettings.max_attachment_bytes); nothing was stored"
    )]
    TooLarge { limit: i64 },
    #[error("{0} '{1}' was not found")]
    NotFound(&'static str, String),
    /// The caller may not do this (reason, message).
    #[error("{1}")]
    Denied(&'static str, String),
    /// Attachments of this kind of parent are not served by this build.
    #[error("{0}")]
    NotServed(String),
    /// An error another part of the service already put in API terms.
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] DbError),
}

impl From<sqlx::Error> for AttachmentError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<AttachmentError> for ApiError {
    fn from(error: AttachmentError) -> Self {
        match error {
            AttachmentError::Invalid(field, problem) => ApiError::invalid(field, problem),
            AttachmentError::TooLarge { .. } => {
                ApiError::ResourceExhausted { reason: "ATTACHMENT_TOO_LARGE", message: error.to_string() }
            }
            AttachmentError::NotFound(resource, id) => ApiError::NotFound { resource, id },
            AttachmentError::Denied(reason, message) => ApiError::PermissionDenied { reason, message },
            AttachmentError::NotServed(message) => ApiError::Unimplemented { message },
            AttachmentError::Api(error) => error,
            AttachmentError::Corrupt(detail) => ApiError::internal(detail),
            AttachmentError::Store(db) => db.into(),
        }
    }
}

/// The file name to store: without any directory part, 1 to 255 characters, no control
/// characters.
pub fn file_name(raw: &str) -> Result<String, String> {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    match name.chars().count() {
        0 => Err("is required (a file name without directories)".into()),
        n if n > MAX_FILE_NAME_CHARS => Err(format!("must be at most {MAX_FILE_NAME_CHARS} characters (it has {n})")),
        _ if name.chars().any(char::is_control) => Err("must not contain control characters".into()),
        _ => Ok(name.to_owned()),
    }
}

/// The content type to record: as given when it is a well-formed `type/subtype` (with
/// optional parameters), the default when empty.
pub fn content_type(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_CONTENT_TYPE.to_owned());
    }
    let essence = raw.split(';').next().unwrap_or_default().trim();
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) && raw.is_ascii() && raw.len() <= 255 => {
            Ok(raw.to_owned())
        }
        _ => Err("must be a media type such as \"application/pdf\"".into()),
    }
}

/// Checks an optional SHA-256: empty, or 64 lowercase hex digits.
pub fn check_sha256(raw: &str) -> Result<(), String> {
    if raw.is_empty() || (raw.len() == 64 && raw.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))) {
        Ok(())
    } else {
        Err("must be 64 lowercase hexadecimal digits, or empty".into())
    }
}

/// The bytes of an upload so far, held against its declared size and the limit.
#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    declared: i64,
    limit: i64,
    received: i64,
}

impl Receipt {
    /// Starts an upload of `declared` bytes under `limit`; refuses a declared size over
    /// the limit before any byte is read.
    pub fn start(declared: i64, limit: i64) -> Result<Self, AttachmentError> {
        if declared < 1 {
            return Err(AttachmentError::Invalid("metadata.size_bytes", "must be at least 1".into()));
        }
        if declared > limit {
            return Err(AttachmentError::TooLarge { limit });
        }
        Ok(Self { declared, limit, received: 0 })
    }

    /// Counts a chunk; refuses as soon as the bytes pass the limit or the declared size.
    pub fn add(&mut self, chunk_len: usize) -> Result<(), AttachmentError> {
        if chunk_len == 0 || chunk_len > MAX_UPLOAD_CHUNK_BYTES {
            return Err(AttachmentError::Invalid("chunk", format!("must hold 1 to {MAX_UPLOAD_CHUNK_BYTES} bytes")));
        }
        self.received += chunk_len as i64;
        if self.received > self.limit {
            return Err(AttachmentError::TooLarge { limit: self.limit });
        }
        if self.received > self.declared {
            return Err(self.size_mismatch());
        }
        Ok(())
    }

    /// The bytes received so far.
    pub fn received(&self) -> i64 {
        self.received
    }

    /// Checks that exactly the declared bytes arrived.
    pub fn finish(&self) -> Result<(), AttachmentError> {
        if self.received == self.declared { Ok(()) } else { Err(self.size_mismatch()) }
    }

    fn size_mismatch(&self) -> AttachmentError {
        AttachmentError::Invalid(
            "metadata.size_bytes",
            format!("declared {} bytes but {} arrived; nothing was stored", self.declared, self.received),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_directories() {
        assert_eq!(file_name("C:\\Users\\ann\\report.pdf").unwrap(), "report.pdf");
        assert_eq!(file_name("../../etc/passwd").unwrap(), "passwd");
        assert!(file_name("dir/").is_err() && file_name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn content_types_must_be_media_types() {
        assert_eq!(content_type("").unwrap(), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type("text/plain; charset=utf-8").unwrap(), "text/plain; charset=utf-8");
        assert!(content_type("pdf").is_err() && content_type("a/b c").is_err());
        assert!(check_sha256(&"a".repeat(64)).is_ok() && check_sha256("ABC").is_err());
    }

    #[test]
    fn receipts_refuse_at_the_limit_and_on_a_wrong_size() {
        assert!(matches!(Receipt::start(11, 10), Err(AttachmentError::TooLarge { limit: 10 })));
        let mut receipt = Receipt::start(10, 10).unwrap();
        receipt.add(6).unwrap();
        assert!(matches!(receipt.add(5), Err(AttachmentError::TooLarge { .. })));
        let mut short = Receipt::start(5, 10).unwrap();
        short.add(4).unwrap();
        assert!(short.finish().is_err());
        assert!(matches!(short.add(2), Err(AttachmentError::Invalid("metadata.size_bytes", _))));
        assert!(Receipt::start(0, 10).is_err());
    }
}
