//! What can go wrong in partner-svc, and how each case is reported (mapped once to
//! `ApiError`).

use service_kit::{ApiError, db::DbError, error::Violation};

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    /// Bad input: (field, problem) pairs.
    #[error("invalid request: {}", .0.iter().map(|(f, p)| format!("{f}: {p}")).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(String, String)>),
    /// Something the request names does not exist, or the caller may not know it exists.
    #[error("{0} '{1}' was not found")]
    NotFound(&'static str, String),
    /// A resource with the same identity exists (reason, message).
    #[error("{1}")]
    AlreadyExists(&'static str, String),
    /// A rule refuses the action in the current state (reason, message).
    #[error("{1}")]
    Refused(&'static str, String),
    /// The caller may not do this (reason, message).
    #[error("{1}")]
    Denied(&'static str, String),
    /// The row changed since the caller read it.
    #[error("the {0} changed since you read it; read it again and retry with the new etag")]
    Stale(&'static str),
    /// Too many concurrent changes to one partnership to evaluate its points.
    #[error("the partnership is changing concurrently; retry")]
    Contended,
    /// A service this one depends on failed (message).
    #[error("{0}")]
    Upstream(String),
    /// Stored data that cannot be read back (a bug or a manual edit).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] DbError),
    /// An answer of the shared plumbing (the access client) passed on as it is.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl PartnerError {
    /// Bad input in one field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.into(), problem.into())])
    }
}

impl From<sqlx::Error> for PartnerError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(DbError::from(error))
    }
}

impl From<PartnerError> for ApiError {
    fn from(error: PartnerError) -> Self {
        let message = error.to_string();
        match error {
            PartnerError::Invalid(problems) => ApiError::InvalidArgument(
                problems
                    .into_iter()
                    .map(|(field, description)| Violation { field, description, reason: None })
                    .collect(),
            ),
            PartnerError::NotFound(resource, id) => ApiError::NotFound { resource, id },
            PartnerError::AlreadyExists(reason, message) => ApiError::AlreadyExists { reason, message },
            PartnerError::Refused(reason, message) => ApiError::FailedPrecondition { reason, message },
            PartnerError::Denied(reason, message) => ApiError::PermissionDenied { reason, message },
            PartnerError::Stale(_) => ApiError::Aborted { reason: "ETAG_MISMATCH", message },
            PartnerError::Contended => ApiError::Aborted { reason: "CONCURRENT_CHANGE", message },
            PartnerError::Upstream(message) => ApiError::Unavailable { message },
            PartnerError::Corrupt(detail) => ApiError::internal(detail),
            PartnerError::Store(db) => db.into(),
            PartnerError::Api(api) => api,
        }
    }
}

impl From<PartnerError> for tonic::Status {
    fn from(error: PartnerError) -> Self {
        ApiError::from(error).into()
    }
}
