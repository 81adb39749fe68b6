//! The gRPC adapter of partner-svc: proto in, validation of shape, the use case, proto
//! out. Errors map to `Status` once, through `PartnerError` and `ApiError`.

mod activity;
mod lookups;
mod partnerships;
mod program;
mod trainings;

pub use activity::{LeadApi, OpportunityApi};
pub use lookups::LookupApi;
pub use partnerships::PartnershipApi;
pub use program::ProgramApi;
pub use trainings::TrainingApi;

use service_kit::{ApiError, clock::from_timestamp, paging};

use crate::domain::PartnerError;

/// The paths of an update mask, or INVALID_ARGUMENT when it is missing.
pub(crate) fn mask_paths(mask: Option<prost_types::FieldMask>) -> Vec<String> {
    mask.map(|m| m.paths).unwrap_or_default()
}

/// A required message field, or INVALID_ARGUMENT naming it.
pub(crate) fn required<T>(field: &str, value: Option<T>) -> Result<T, PartnerError> {
    value.ok_or_else(|| PartnerError::invalid(field, "is required"))
}

/// A request_id, at most 100 characters.
pub(crate) fn request_id(id: &str) -> Result<&str, PartnerError> {
    if id.chars().count() > 100 {
        return Err(PartnerError::invalid("request_id", "must be at most 100 characters"));
    }
    Ok(id)
}

/// A page size (default 50, at most 500), plus one extra row to see whether more follow.
pub(crate) fn page_limit(page_size: i32) -> Result<(i64, i64), ApiError> {
    let size = paging::page_size(page_size)?;
    Ok((size, size + 1))
}

/// The keyset position of a newest-first list's page token, checked against the
/// filters it was issued for (a token used with other filters is INVALID_ARGUMENT).
pub(crate) fn newest_first_position(token: &str, filters: &str) -> Result<Option<(i64, String)>, ApiError> {
    let Some((key, id)) = paging::text_position(token)? else { return Ok(None) };
    let bad = || ApiError::invalid("page_token", "was issued for other filters; start again without one");
    let (time, fingerprint) = key.split_once('|').ok_or_else(bad)?;
    if fingerprint != filters {
        return Err(bad());
    }
    Ok(Some((time.parse().map_err(|_| bad())?, id)))
}

/// Cuts the extra row off and returns the next page token of a newest-first list.
pub(crate) fn newest_first_next<T>(
    rows: &mut Vec<T>,
    size: i64,
    filters: &str,
    key: impl Fn(&T) -> (i64, &str),
) -> String {
    if rows.len() as i64 <= size {
        return String::new();
    }
    rows.truncate(size as usize);
    rows.last()
        .map(|last| {
            let (time, id) = key(last);
            paging::text_token(&format!("{time}|{filters}"), id)
        })
        .unwrap_or_default()
}

/// A short fingerprint of a list's filters, carried in its page tokens.
pub(crate) fn fingerprint(filters: &impl std::fmt::Debug) -> String {
    let text = format!("{filters:?}");
    let digest = service_kit::secrets::token_digest(&text);
    digest[..16].to_owned()
}

/// A half-open time range filter in milliseconds.
pub(crate) fn time_range(
    field: &str,
    range: Option<portal_proto::partner::TimeRange>,
) -> Result<(Option<i64>, Option<i64>), PartnerError> {
    let Some(range) = range else { return Ok((None, None)) };
    let from = range.start_time.as_ref().map(from_timestamp);
    let to = range.end_time.as_ref().map(from_timestamp);
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(PartnerError::invalid(format!("{field}.end_time"), "must be after start_time"));
    }
    Ok((from, to))
}
