//! The gRPC adapter of notify: proto in, validation, use-case call, proto out.
//! Errors are mapped to `Status` once, through `NotifyError` and `ApiError`.

mod audit;
mod deliveries;
mod internal;
mod templates;

pub use audit::AuditApi;
pub use deliveries::DeliveryApi;
pub use internal::InternalApi;
pub use templates::TemplateApi;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};
use service_kit::{ApiError, Caller, access::AccessClient};
use tonic::{Request, Status};

/// Default and largest page sizes of the List calls.
const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;

/// The caller of an administrative call, once access allows them the system operation
/// `operation` (the system administrator, or an employee granted it), asked on every call.
async fn authorized<'r, T>(
    access: &AccessClient,
    request: &'r Request<T>,
    operation: &str,
) -> Result<&'r Caller, Status> {
    let caller = Caller::user_of(request)?;
    access.require_staff_operation(caller, operation).await?;
    Ok(caller)
}

/// The page size asked for, within bounds; the error names the field.
fn page_size(requested: i32) -> Result<i64, Status> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(ApiError::invalid("page_size", "must not be negative").into()),
        n => Ok((n as i64).min(MAX_PAGE_SIZE)),
    }
}

/// An opaque page token carrying a cursor.
fn encode_token<T: Serialize>(cursor: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// The cursor of a page token; `None` for the first page.
fn decode_token<T: DeserializeOwned>(token: &str) -> Result<Option<T>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD.decode(token).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).map(Some).ok_or_else(
        || ApiError::invalid("page_token", "is not a token this list returned; start again with an empty token").into(),
    )
}

/// Checks macro values (Enqueue, RenderTemplate): at most 50, keys at most 64 characters
/// of letters and digits (with or without `#`), values at most 8 KiB.
fn check_macro_values(
    values: &std::collections::HashMap<String, String>,
    violations: &mut service_kit::error::Violations,
) {
    if values.len() > 50 {
        violations.add("macro_values", "must have at most 50 entries");
    }
    for (key, value) in values {
        let name = key.trim_matches('#');
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            violations.add(format!("macro_values[{key}]"), "keys must be macro names of 1 to 64 letters and digits");
        } else if value.len() > 8 * 1024 {
            violations.add(format!("macro_values[{key}]"), "must be at most 8 KiB");
        }
    }
}
