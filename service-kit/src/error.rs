//! The canonical error model. Each service's domain errors convert into
//! [`ApiError`], and [`ApiError`] converts once into a `tonic::Status` carrying
//! google.rpc details (BadRequest field violations, ErrorInfo reasons,
//! ResourceInfo), which grpcurl prints because reflection serves their types.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of every error the portal returns.
pub const ERROR_DOMAIN: &str = "portal";

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Bad input: one entry per offending field.
    #[error("invalid request: {}", describe_violations(.0))]
    InvalidArgument(Vec<Violation>),
    /// The addressed resource does not exist (or the caller may not know it exists).
    #[error("{resource} '{id}' was not found")]
    NotFound { resource: &'static str, id: String },
    /// A resource with the same identity exists.
    #[error("{message}")]
    AlreadyExists { reason: &'static str, message: String },
    /// A rule forbids the action in the current state.
    #[error("{message}")]
    FailedPrecondition { reason: &'static str, message: String },
    /// The caller is known but not allowed.
    #[error("{message}")]
    PermissionDenied { reason: &'static str, message: String },
    /// The caller could not be identified.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// A limit is reached (seats, sizes, load).
    #[error("{message}")]
    ResourceExhausted { reason: &'static str, message: String },
    /// The resource changed since the caller read it (stale etag).
    #[error("{message}")]
    Aborted { reason: &'static str, message: String },
    /// A part of the contract that is not built yet.
    #[error("{message}")]
    Unimplemented { message: String },
    /// A dependency is down; retrying later may work.
    #[error("{message}")]
    Unavailable { message: String },
    /// A fault on our side; the detail is logged, not returned.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field path as written in the request, e.g. `email` or `user.phone`.
    pub field: String,
    /// What is wrong and what is expected.
    pub description: String,
    /// The ErrorInfo reason of a rule the field breaks (e.g. `PASSWORD_TOO_SHORT`), if any.
    pub reason: Option<&'static str>,
}

fn describe_violations(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl ApiError {
    /// Bad input in one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![Violation { field: field.into(), description: description.into(), reason: None }])
    }

    /// Bad input in one field that breaks a named rule (the reason goes into ErrorInfo).
    pub fn invalid_because(field: impl Into<String>, description: impl Into<String>, reason: &'static str) -> Self {
        Self::InvalidArgument(vec![Violation {
            field: field.into(),
            description: description.into(),
            reason: Some(reason),
        }])
    }

    /// A fault on our side.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal { detail: detail.to_string() }
    }
}

/// Collects field violations while a request is validated, so that one answer names
/// every bad field instead of the first only.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a bad field.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(Violation { field: field.into(), description: description.into(), reason: None });
    }

    /// Records the error of a field check that failed.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|description| self.add(field, description)).ok()
    }

    /// `Ok` when nothing was recorded, else the INVALID_ARGUMENT error naming every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(self.0)) }
    }
}

fn info(reason: &str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new())
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        match error {
            ApiError::InvalidArgument(violations) => {
                let reason = violations.iter().find_map(|v| v.reason);
                let mut details = ErrorDetails::with_bad_request(
                    violations.into_iter().map(|v| FieldViolation::new(v.field, v.description)).collect::<Vec<_>>(),
                );
                if let Some(reason) = reason {
                    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::NotFound { resource, id } => Status::with_error_details(
                Code::NotFound,
                message,
                ErrorDetails::with_resource_info(resource, id, "", "not found, or not visible to the caller"),
            ),
            ApiError::AlreadyExists { reason, .. } => {
                Status::with_error_details(Code::AlreadyExists, message, info(reason))
            }
            ApiError::FailedPrecondition { reason, .. } => {
                Status::with_error_details(Code::FailedPrecondition, message, info(reason))
            }
            ApiError::PermissionDenied { reason, .. } => {
                Status::with_error_details(Code::PermissionDenied, message, info(reason))
            }
            ApiError::Unauthenticated { .. } => Status::unauthenticated(message),
            ApiError::ResourceExhausted { reason, .. } => {
                Status::with_error_details(Code::ResourceExhausted, message, info(reason))
            }
            ApiError::Aborted { reason, .. } => Status::with_error_details(Code::Aborted, message, info(reason)),
            ApiError::Unavailable { .. } => Status::unavailable(message),
            ApiError::Unimplemented { .. } => Status::unimplemented(message),
            ApiError::Internal { detail } => {
                let reference = crate::secrets::new_id();
                tracing::error!(%reference, %detail, "internal error");
                Status::internal(format!("internal error; quote reference {reference} to the operator"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_every_field_in_details() {
        let mut v = Violations::new();
        v.add("email", "must contain @");
        v.add("password", "must be at least 12 characters");
        let status = Status::from(v.finish().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("email: must contain @"));
        let bad = status.get_details_bad_request().expect("bad request details");
        let fields: Vec<_> = bad.field_violations.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn rule_refusals_carry_their_reason() {
        let status = Status::from(ApiError::FailedPrecondition {
            reason: "CASE_NOT_REOPENABLE",
            message: "only Resolved cases can be reopened".into(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.get_details_error_info().unwrap().reason, "CASE_NOT_REOPENABLE");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let status = Status::from(ApiError::internal("connection string postgres://secret"));
        assert!(!status.message().contains("secret"));
    }
}

/// The ErrorInfo reason of a refusal another service (or this one) answered, or "" when
/// it carries none.
pub fn error_reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}
