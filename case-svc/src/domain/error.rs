//! The errors of case handling, mapped once to the API's error model.

use service_kit::ApiError;

use super::status::CaseStatus;

/// Why a case operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("a {0:?} case cannot be canceled; only New, In progress, Waiting for response and Re-opened cases can")]
    NotCancelable(CaseStatus),
    #[error("a {0:?} case cannot be closed; only a Resolved case can be closed")]
    NotClosable(CaseStatus),
    #[error("a {0:?} case cannot be reopened; only Resolved or Waiting for response cases can")]
    NotReopenable(CaseStatus),
    #[error("a case cannot move from {from:?} to {to:?}")]
    TransitionNotAllowed { from: CaseStatus, to: CaseStatus },
    #[error("moving to {0:?} needs a staff closure reason only when the target is Closed or Canceled")]
    BadClosureReason(CaseStatus),
    #[error("the case is {0:?}; only complaints may be posted on it")]
    Closed(CaseStatus),
    #[error("feedback can be given only once the case is Resolved, Closed or Canceled (it is {0:?})")]
    FeedbackNotAllowed(CaseStatus),
    #[error("{resource} '{id}' was not found")]
    NotFound { resource: &'static str, id: String },
    #[error("{message}")]
    Precondition { reason: &'static str, message: String },
    #[error("{message}")]
    PermissionDenied { message: String },
    #[error("{resource} changed since it was read; read it again and retry")]
    StaleEtag { resource: &'static str },
    #[error("the deadline lies more than three years after the start")]
    HorizonExceeded,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<super::calendar::HorizonExceeded> for CaseError {
    fn from(_: super::calendar::HorizonExceeded) -> Self {
        Self::HorizonExceeded
    }
}

impl From<sqlx::Error> for CaseError {
    fn from(error: sqlx::Error) -> Self {
        Self::Api(error.into())
    }
}

impl From<CaseError> for ApiError {
    fn from(error: CaseError) -> Self {
        let message = error.to_string();
        let precondition = |reason: &'static str| ApiError::FailedPrecondition { reason, message: message.clone() };
        match error {
            CaseError::NotCancelable(_) => precondition("CASE_NOT_CANCELABLE"),
            CaseError::NotClosable(_) => precondition("CASE_NOT_CLOSABLE"),
            CaseError::NotReopenable(_) => precondition("CASE_NOT_REOPENABLE"),
            CaseError::TransitionNotAllowed { .. } => precondition("CASE_TRANSITION_NOT_ALLOWED"),
            CaseError::BadClosureReason(_) => ApiError::invalid(
                "closure_reason",
                "give one of CLOSED_BY_STAFF, CANCELED_BY_STAFF, DUPLICATE, NO_CUSTOMER_RESPONSE when the target is \
                 Closed or Canceled, and none otherwise",
            ),
            CaseError::Closed(_) => precondition("CASE_CLOSED"),
            CaseError::FeedbackNotAllowed(_) => precondition("FEEDBACK_NOT_ALLOWED"),
            CaseError::NotFound { resource, id } => ApiError::NotFound { resource, id },
            CaseError::Precondition { reason, message } => ApiError::FailedPrecondition { reason, message },
            CaseError::PermissionDenied { message } => {
                ApiError::PermissionDenied { reason: "PERMISSION_DENIED", message }
            }
            CaseError::StaleEtag { .. } => ApiError::Aborted { reason: "STALE_ETAG", message },
            CaseError::HorizonExceeded => precondition("CALENDAR_HORIZON_EXCEEDED"),
            CaseError::Api(error) => error,
        }
    }
}

impl From<CaseError> for tonic::Status {
    fn from(error: CaseError) -> Self {
        ApiError::from(error).into()
    }
}
