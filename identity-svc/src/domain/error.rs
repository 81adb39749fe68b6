//! What can go wrong in identity, and how each case is reported.

use service_kit::{ApiError, db::DbError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Wrong password, unknown email, deactivated user: deliberately one answer.
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// The session token is unknown, expired or ended.
    #[error("the session is not valid: log in again")]
    SessionInvalid,
    #[error("user '{0}' was not found")]
    UserNotFound(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("configuration: {0}")]
    Configuration(String),
    #[error(transparent)]
    Store(#[from] DbError),
}

impl From<sqlx::Error> for IdentityError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::InvalidCredentials | IdentityError::SessionInvalid => {
                ApiError::Unauthenticated {
                    message: error.to_string(),
                }
            }
            IdentityError::UserNotFound(id) => ApiError::NotFound {
                resource: "user",
                id,
            },
            IdentityError::Hashing(detail) | IdentityError::Configuration(detail) => {
                ApiError::internal(detail)
            }
            IdentityError::Store(db) => db.into(),
        }
    }
}

impl From<IdentityError> for tonic::Status {
    fn from(error: IdentityError) -> Self {
        ApiError::from(error).into()
    }
}
