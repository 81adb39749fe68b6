//! The canonical error model. Each service's domain errors convert into
//! [`ApiError`], and [`ApiError`] converts once into a `tonic::Status` carrying
//! google.rpc details (BadRequest field violations, ErrorInfo reasons,
//! ResourceInfo), which grpcurl prints because reflection serves their types.
//!
//! What a caller sent is never echoed at length: an id in NOT_FOUND is cut to a short
//! prefix ([`echo`]), and every message and field violation is bounded, so that an
//! answer always fits gRPC's header limits (status, message and details travel in
//! HTTP/2 headers, 16 KiB by default) whatever the request held.

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
    #[error("{resource} '{}' was not found", echo(.id))]
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

/// The most characters of a caller's value an error repeats.
pub const ECHO_CHARS: usize = 64;
/// The longest message (in characters) an error carries.
const MESSAGE_CHARS: usize = 1024;
/// The longest field name and field description of a violation.
const FIELD_CHARS: usize = 200;
const DESCRIPTION_CHARS: usize = 400;
/// The most field violations one answer lists.
const VIOLATIONS: usize = 20;

/// A caller's value as an error may repeat it: at most [`ECHO_CHARS`] characters,
/// followed by "…" when it was longer.
pub fn echo(value: &str) -> String {
    clip(value, ECHO_CHARS)
}

fn clip(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
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
    let mut text = violations
        .iter()
        .take(VIOLATIONS)
        .map(|v| format!("{}: {}", clip(&v.field, FIELD_CHARS), clip(&v.description, DESCRIPTION_CHARS)))
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > VIOLATIONS {
        text.push_str(&format!("; and {} more", violations.len() - VIOLATIONS));
    }
    text
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

    /// The addressed resource does not exist; the id is repeated only as a short prefix.
    pub fn not_found(resource: &'static str, id: &str) -> Self {
        Self::NotFound { resource, id: echo(id) }
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
        let message = clip(&error.to_string(), MESSAGE_CHARS);
        match error {
            ApiError::InvalidArgument(violations) => {
                let reason = violations.iter().find_map(|v| v.reason);
                let mut details = ErrorDetails::with_bad_request(
                    violations
                        .into_iter()
                        .take(VIOLATIONS)
                        .map(|v| {
                            FieldViolation::new(clip(&v.field, FIELD_CHARS), clip(&v.description, DESCRIPTION_CHARS))
                        })
                        .collect::<Vec<_>>(),
                );
                if let Some(reason) = reason {
                    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::NotFound { resource, id } => Status::with_error_details(
                Code::NotFound,
                message,
                ErrorDetails::with_resource_info(resource, echo(&id), "", "not found, or not visible to the caller"),
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
    fn answers_repeat_only_a_short_prefix_of_what_the_caller_sent() {
        let long = "x".repeat(10_000);
        let status = Status::from(ApiError::NotFound { resource: "user", id: long.clone() });
        assert!(status.message().len() < 200, "{}", status.message());
        assert_eq!(status.get_details_resource_info().unwrap().resource_name.chars().count(), ECHO_CHARS + 1);
        let mut v = Violations::new();
        for index in 0..1000 {
            v.add(format!("emails[{index}]"), format!("'{long}' is not an email address"));
        }
        let status = Status::from(v.finish().unwrap_err());
        assert!(status.message().chars().count() <= MESSAGE_CHARS + 1);
        let bad = status.get_details_bad_request().unwrap();
        assert_eq!(bad.field_violations.len(), VIOLATIONS);
        assert!(bad.field_violations.iter().all(|f| f.description.chars().count() <= DESCRIPTION_CHARS + 1));
        assert_eq!(echo("short"), "short");
        assert_eq!(echo(&"é".repeat(100)), format!("{}…", "é".repeat(ECHO_CHARS)));
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
