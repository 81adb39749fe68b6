//! List pagination as the API conventions fix it: `page_size` (default 50, at most 500)
//! and opaque page tokens that carry a keyset position (an instant and an id), so
//! pages stay stable while rows are added and the database never skips rows by offset.

use crate::ApiError;

/// Page size when the request names none.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page size accepted.
pub const MAX_PAGE_SIZE: i64 = 500;

/// The page size a request asks for.
pub fn page_size(requested: i32) -> Result<i64, ApiError> {
    match i64::from(requested) {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid("page_size", "must be between 1 and 500, or 0 for the default of 50")),
    }
}

/// The keyset position a page token carries; `None` for the first page.
pub fn position(page_token: &str) -> Result<Option<(i64, String)>, ApiError> {
    if page_token.is_empty() {
        return Ok(None);
    }
    page_token
        .split_once('/')
        .and_then(|(time, id)| Some((time.parse::<i64>().ok()?, id.to_owned())))
        .map(Some)
        .ok_or_else(|| ApiError::invalid("page_token", "is not a token this list returned; start again without one"))
}

/// Cuts one extra fetched row off `rows` and returns the token of the next page (empty
/// when there is none). Callers fetch `page_size + 1` rows.
pub fn next_page<T>(rows: &mut Vec<T>, page_size: i64, key: impl Fn(&T) -> (i64, &str)) -> String {
    if rows.len() as i64 <= page_size {
        return String::new();
    }
    rows.truncate(page_size as usize);
    rows.last()
        .map(|last| {
            let (time, id) = key(last);
            format!("{time}/{id}")
        })
        .unwrap_or_default()
}

/// [`next_page`] for an ordering by a text key, then id: cuts the extra fetched row off
/// `rows` and returns the [`text_token`] of the next page (empty when there is none).
pub fn next_text_page<T>(rows: &mut Vec<T>, page_size: i64, key: impl Fn(&T) -> (&str, &str)) -> String {
    if rows.len() as i64 <= page_size {
        return String::new();
    }
    rows.truncate(page_size as usize);
    rows.last().map(|last| key(last)).map(|(text, id)| text_token(text, id)).unwrap_or_default()
}

/// The paths of an update's field mask; INVALID_ARGUMENT naming `update_mask` when it
/// names none.
pub fn update_paths(mask: Option<prost_types::FieldMask>) -> Result<Vec<String>, ApiError> {
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(ApiError::invalid("update_mask", "name at least one path to change"));
    }
    Ok(paths)
}

/// A page token for an ordering by a text key, then id (e.g. full name, then id).
pub fn text_token(key: &str, id: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("{key}\u{0}{id}"))
}

/// The (text key, id) position a [`text_token`] carries; `None` for the first page.
pub fn text_position(page_token: &str) -> Result<Option<(String, String)>, ApiError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    if page_token.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(page_token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.split_once('\u{0}').map(|(key, id)| (key.to_owned(), id.to_owned())))
        .map(Some)
        .ok_or_else(|| ApiError::invalid("page_token", "is not a token this list returned; start again without one"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_tokens() {
        assert_eq!(page_size(0).unwrap(), 50);
        assert!(page_size(501).is_err() && page_size(-1).is_err());
        let mut rows = vec![(1, "a".to_owned()), (2, "b".to_owned()), (3, "c".to_owned())];
        let token = next_page(&mut rows, 2, |r| (r.0, &r.1));
        assert_eq!(rows.len(), 2);
        assert_eq!(position(&token).unwrap(), Some((2, "b".to_owned())));
        assert!(position("garbage").is_err());
        assert_eq!(next_page(&mut rows, 2, |r| (r.0, &r.1)), "");
        let token = text_token("Zoë / Ann", "id-1");
        assert_eq!(text_position(&token).unwrap(), Some(("Zoë / Ann".to_owned(), "id-1".to_owned())));
        assert!(text_position("!!").is_err());
    }
}
