//! What can go wrong in access, and how each case is reported (mapped once to ApiError).

use service_kit::{ApiError, db::DbError, error::Violation};

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Bad input: (field, problem) pairs.
    #[error("invalid request")]
    Invalid(Vec<(String, String)>),
    /// (resource, id)
    #[error("{0} '{1}' was not found")]
    NotFound(&'static str, String),
    /// (reason, message)
    #[error("{1}")]
    AlreadyExists(&'static str, String),
    /// A rule refuses the action: FAILED_PRECONDITION (reason, message).
    #[error("{1}")]
    Refused(&'static str, String),
    /// The caller may not do this (reason, message).
    #[error("{1}")]
    Denied(&'static str, String),
    /// The resource changed since the caller read it.
    #[error("the {0} changed since you read it; read it again and retry with the new etag")]
    Stale(&'static str),
    /// A dependency (identity) is down or answered badly.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Storage(#[from] DbError),
    /// A refusal already in the API's terms (a shared input check's).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl AccessError {
    /// Bad input in one field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![(field.into(), problem.into())])
    }
}

impl From<sqlx::Error> for AccessError {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(DbError::from(error))
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        let message = error.to_string();
        match error {
            AccessError::Invalid(fields) => ApiError::InvalidArgument(
                fields.into_iter().map(|(field, description)| Violation { field, description, reason: None }).collect(),
            ),
            AccessError::NotFound(resource, id) => ApiError::NotFound { resource, id },
            AccessError::AlreadyExists(reason, _) => ApiError::AlreadyExists { reason, message },
            AccessError::Refused(reason, _) => ApiError::FailedPrecondition { reason, message },
            AccessError::Denied(reason, _) => ApiError::PermissionDenied { reason, message },
            AccessError::Stale(_) => ApiError::Aborted { reason: "ETAG_MISMATCH", message },
            AccessError::Unavailable(_) => ApiError::Unavailable { message },
            AccessError::Storage(error) => error.into(),
            AccessError::Api(error) => error,
        }
    }
}

impl From<AccessError> for tonic::Status {
    fn from(error: AccessError) -> Self {
        ApiError::from(error).into()
    }
}
