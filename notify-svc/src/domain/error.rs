//! What can go wrong in notify, and how each case is reported.

use std::collections::HashMap;

use service_kit::{
    ApiError,
    db::DbError,
    error::{ERROR_DOMAIN, echo},
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Bad input: `(field, what is wrong)` for each offending field.
    #[error("invalid request: {}", .0.iter().map(|(f, d)| format!("{f}: {d}")).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(&'static str, String)>),
    #[error("{field} lacks the required macro {name}: add it, or choose another template code")]
    MacroMissing { name: String, field: &'static str },
    #[error(
        "{field} uses the macro {}, which this template code does not know; ListTemplateCodes lists the macros of each code",
        echo(.name)
    )]
    MacroUnknown { name: String, field: &'static str },
    #[error(
        "{field} links to {}, outside the portal's public base URL {base_url}: link to the portal, or through a link macro such as #RecoveryLinkUrl#",
        echo(.link)
    )]
    ForeignLink { link: String, field: &'static str, base_url: String },
    #[error("macro_values has no value for the required macro #{name}#")]
    MacroValueMissing { name: String },
    #[error("template code '{code}' has no template in culture '{culture}', its language or en-US")]
    TemplateNotFound { code: String, culture: String },
    #[error("template '{0}' was not found")]
    TemplateIdNotFound(String),
    #[error("delivery '{0}' was not found")]
    DeliveryNotFound(String),
    #[error("template code '{code}' already has a template in culture '{culture}': update that one instead")]
    TemplateExists { code: String, culture: String },
    #[error("the template changed since it was read (stale etag): read it again and retry")]
    StaleEtag,
    #[error("{0}")]
    DefaultCultureRequired(String),
    #[error(
        "idempotency key '{0}' was used before for another recipient or template code: use a new key for a new email"
    )]
    IdempotencyKeyReused(String),
    #[error("delivery '{id}' is {state}, not dead-lettered: only dead-lettered deliveries can be retried")]
    NotDeadLettered { id: String, state: &'static str },
    #[error("{0}")]
    PermissionDenied(String),
    #[error(transparent)]
    Store(#[from] DbError),
}

impl From<sqlx::Error> for NotifyError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl NotifyError {
    /// A single bad field.
    pub fn invalid(field: &'static str, description: impl Into<String>) -> Self {
        Self::Invalid(vec![(field, description.into())])
    }
}

/// INVALID_ARGUMENT or NOT_FOUND with both the offending field and the reason.
fn detailed(
    code: Code,
    message: String,
    reason: &str,
    metadata: HashMap<String, String>,
    field: Option<String>,
) -> Status {
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
    if let Some(field) = field {
        details.set_bad_request(vec![FieldViolation::new(field, message.clone())]);
    }
    Status::with_error_details(code, message, details)
}

impl From<NotifyError> for Status {
    fn from(error: NotifyError) -> Self {
        let message = error.to_string();
        match error {
            NotifyError::MacroMissing { name, field } => detailed(
                Code::InvalidArgument,
                message,
                "TEMPLATE_MACRO_MISSING",
                HashMap::from([("macro".into(), name), ("field".into(), field.into())]),
                Some(format!("template.{field}")),
            ),
            NotifyError::MacroUnknown { name, field } => detailed(
                Code::InvalidArgument,
                message,
                "TEMPLATE_MACRO_UNKNOWN",
                HashMap::from([("macro".into(), echo(&name)), ("field".into(), field.into())]),
                Some(format!("template.{field}")),
            ),
            NotifyError::ForeignLink { link, field, .. } => detailed(
                Code::InvalidArgument,
                message,
                "TEMPLATE_LINK_FOREIGN",
                HashMap::from([("link".into(), echo(&link)), ("field".into(), field.into())]),
                Some(format!("template.{field}")),
            ),
            NotifyError::MacroValueMissing { name } => detailed(
                Code::InvalidArgument,
                message,
                "MACRO_VALUE_MISSING",
                HashMap::from([("macro".into(), name.clone())]),
                Some(format!("macro_values[{name}]")),
            ),
            NotifyError::TemplateNotFound { code, culture } => detailed(
                Code::NotFound,
                message,
                "TEMPLATE_NOT_FOUND",
                HashMap::from([("code".into(), code), ("culture".into(), culture)]),
                None,
            ),
            other => ApiError::from(other).into(),
        }
    }
}

impl From<NotifyError> for ApiError {
    fn from(error: NotifyError) -> Self {
        let message = error.to_string();
        match error {
            NotifyError::Invalid(violations) => {
                let mut collected = service_kit::error::Violations::new();
                for (field, description) in violations {
                    collected.add(field, description);
                }
                collected.finish().err().unwrap_or_else(|| ApiError::internal("an empty list of violations"))
            }
            NotifyError::MacroMissing { field, .. }
            | NotifyError::MacroUnknown { field, .. }
            | NotifyError::ForeignLink { field, .. } => ApiError::invalid(format!("template.{field}"), message),
            NotifyError::MacroValueMissing { name } => ApiError::invalid(format!("macro_values[{name}]"), message),
            NotifyError::TemplateNotFound { code, .. } => ApiError::NotFound { resource: "template", id: code },
            NotifyError::TemplateIdNotFound(id) => ApiError::NotFound { resource: "template", id },
            NotifyError::DeliveryNotFound(id) => ApiError::NotFound { resource: "delivery", id },
            NotifyError::TemplateExists { .. } => {
                ApiError::AlreadyExists { reason: "TEMPLATE_ALREADY_EXISTS", message }
            }
            NotifyError::StaleEtag => ApiError::Aborted { reason: "ETAG_MISMATCH", message },
            NotifyError::DefaultCultureRequired(_) => {
                ApiError::FailedPrecondition { reason: "TEMPLATE_DEFAULT_CULTURE_REQUIRED", message }
            }
            NotifyError::IdempotencyKeyReused(_) => {
                ApiError::FailedPrecondition { reason: "IDEMPOTENCY_KEY_REUSED", message }
            }
            NotifyError::NotDeadLettered { .. } => {
                ApiError::FailedPrecondition { reason: "DELIVERY_NOT_DEAD_LETTERED", message }
            }
            NotifyError::PermissionDenied(_) => ApiError::PermissionDenied { reason: "PERMISSION_DENIED", message },
            NotifyError::Store(db) => db.into(),
        }
    }
}
