//! What can go wrong in identity, and how each case is reported.

use service_kit::{ApiError, db::DbError, error::Violation};

use super::password_policy::PasswordRejection;

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
    /// Bad input: (field, problem) pairs.
    #[error("invalid request")]
    Invalid(Vec<(&'static str, String)>),
    /// Bad input in fields whose paths are built from the request (list indexes).
    #[error("invalid request")]
    InvalidAt(Vec<(String, String)>),
    /// A new password the policy refuses.
    #[error("{field} {rejection}")]
    PasswordRejected { field: &'static str, rejection: PasswordRejection },
    /// ChangePassword with a wrong (or throttled) current password.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// The resource changed since the caller read it.
    #[error("the {0} changed since you read them; read them again and retry with the new etag")]
    Stale(&'static str),
    /// Bad input in one field that breaks a named rule (field, problem, reason).
    #[error("{0} {1}")]
    InvalidBecause(&'static str, String, &'static str),
    /// A resource with the same identity exists (reason, message).
    #[error("{1}")]
    AlreadyExists(&'static str, String),
    /// A rule refuses the action (reason, message).
    #[error("{1}")]
    Refused(&'static str, String),
    /// Too many link tokens tried, or emails asked for, from one address or for one email.
    #[error("too many attempts: wait a few minutes before trying again")]
    TooManyAttempts,
    /// An emailed link's token that is unknown or was issued for another purpose.
    #[error("this link is not valid: check that it was copied whole, or ask for a new one")]
    TokenNotFound,
    /// Another user already has this email.
    #[error("another user already has the email {0}")]
    EmailAlreadyUsed(String),
    /// The contact already has a user.
    #[error("contact '{0}' already has a user")]
    ContactAlreadyHasUser(String),
    /// The licence product has no free seat.
    #[error("licence product '{0}' has no free seat; release a seat or raise the pool in the configuration")]
    NoFreeSeat(String),
    /// Something the request names does not exist (resource kind, id).
    #[error("{0} '{1}' was not found")]
    NotFound(&'static str, String),
    /// A part of the contract that later work delivers.
    #[error("{0}")]
    NotYet(&'static str),
    /// The caller may not do this.
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("configuration: {0}")]
    Configuration(String),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The change is committed but access-svc did not acknowledge it.
    #[error(
        "the change is saved, but permission checks could not be told about it yet ({0}); \
         repeat the same request to tell them again"
    )]
    AccessNotInformed(String),
    /// access-svc could not say whether the caller holds a system operation.
    #[error("permissions cannot be checked right now ({0}); try again shortly")]
    AccessUnavailable(String),
    /// Another service of the suite that a call needs (named) cannot answer now.
    #[error("{0} cannot be asked right now ({1}); try again shortly")]
    Unreachable(&'static str, String),
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
                ApiError::Unauthenticated { message: error.to_string() }
            }
            IdentityError::UserNotFound(id) => ApiError::NotFound { resource: "user", id },
            IdentityError::NotFound(resource, id) => ApiError::NotFound { resource, id },
            IdentityError::Refused(reason, message) => ApiError::FailedPrecondition { reason, message },
            IdentityError::TokenNotFound => ApiError::NotFound { resource: "link token", id: String::new() },
            IdentityError::TooManyAttempts => {
                ApiError::ResourceExhausted { reason: "TOO_MANY_ATTEMPTS", message: error.to_string() }
            }
            IdentityError::InvalidBecause(field, problem, reason) => ApiError::invalid_because(field, problem, reason),
            IdentityError::AlreadyExists(reason, message) => ApiError::AlreadyExists { reason, message },
            IdentityError::NotYet(message) => ApiError::Unimplemented { message: message.into() },
            IdentityError::EmailAlreadyUsed(_) => {
                ApiError::AlreadyExists { reason: "EMAIL_ALREADY_USED", message: error.to_string() }
            }
            IdentityError::ContactAlreadyHasUser(_) => {
                ApiError::AlreadyExists { reason: "CONTACT_ALREADY_HAS_USER", message: error.to_string() }
            }
            IdentityError::NoFreeSeat(_) => {
                ApiError::ResourceExhausted { reason: "NO_FREE_SEAT", message: error.to_string() }
            }
            IdentityError::Invalid(problems) => ApiError::InvalidArgument(
                problems
                    .into_iter()
                    .map(|(field, description)| Violation { field: field.into(), description, reason: None })
                    .collect(),
            ),
            IdentityError::InvalidAt(problems) => ApiError::InvalidArgument(
                problems
                    .into_iter()
                    .map(|(field, description)| Violation { field, description, reason: None })
                    .collect(),
            ),
            IdentityError::PasswordRejected { field, rejection } => {
                ApiError::invalid_because(field, rejection.to_string(), rejection.reason())
            }
            IdentityError::WrongCurrentPassword => ApiError::invalid_because(
                "current_password",
                "is not your current password (repeated wrong attempts are slowed down)",
                "CURRENT_PASSWORD_WRONG",
            ),
            IdentityError::Stale(_) => ApiError::Aborted { reason: "ETAG_MISMATCH", message: error.to_string() },
            IdentityError::NotAllowed(message) => {
                ApiError::PermissionDenied { reason: "NOT_ALLOWED", message: message.into() }
            }
            IdentityError::Hashing(detail) | IdentityError::Configuration(detail) | IdentityError::Corrupt(detail) => {
                ApiError::internal(detail)
            }
            IdentityError::AccessNotInformed(_)
            | IdentityError::AccessUnavailable(_)
            | IdentityError::Unreachable(..) => ApiError::Unavailable { message: error.to_string() },
            IdentityError::Store(db) => db.into(),
        }
    }
}

impl From<IdentityError> for tonic::Status {
    fn from(error: IdentityError) -> Self {
        if let IdentityError::TokenNotFound = error {
            // NOT_FOUND with an ErrorInfo reason, which ApiError::NotFound does not carry.
            use tonic_types::{ErrorDetails, StatusExt};
            let mut details = ErrorDetails::with_resource_info("link token", "", "", error.to_string());
            details.set_error_info(
                "TOKEN_NOT_FOUND",
                service_kit::error::ERROR_DOMAIN,
                std::collections::HashMap::new(),
            );
            return tonic::Status::with_error_details(tonic::Code::NotFound, error.to_string(), details);
        }
        ApiError::from(error).into()
    }
}
