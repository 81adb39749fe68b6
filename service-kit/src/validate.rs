//! The checks every adapter applies to what callers send, so that bad input is
//! INVALID_ARGUMENT naming its field in every service alike: ids and email addresses.
//! (Enum values and text without NUL characters are checked for every request by the
//! codec, `portal_proto::codec`.) Descriptions repeat at most a short prefix of the value
//! ([`crate::error::echo`]).

use crate::{ApiError, error::echo};

/// The longest id any resource has (ids are UUIDs, codes are shorter than this).
pub const MAX_ID_CHARS: usize = 128;

/// A required id: 1 to [`MAX_ID_CHARS`] characters, no control characters.
pub fn id<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid(field, "is required: the id of the resource"));
    }
    optional_id(field, value)?;
    Ok(value)
}

/// An id that may be left empty ("none" or "any"); when set, as [`id`] requires.
pub fn optional_id<'a>(field: &str, value: &'a str) -> Result<Option<&'a str>, ApiError> {
    if value.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::invalid(field, format!("is not an id: ids are at most {MAX_ID_CHARS} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "is not an id: ids have no control characters"));
    }
    Ok((!value.is_empty()).then_some(value))
}

/// A list of ids, each as [`id`] requires; violations name the index (`field[3]`).
pub fn ids<S: AsRef<str>>(field: &str, values: &[S]) -> Result<(), ApiError> {
    for (index, value) in values.iter().enumerate() {
        id(&format!("{field}[{index}]"), value.as_ref())?;
    }
    Ok(())
}

/// Why a text is not an email address; the description of a field violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("is required")]
    Missing,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("'{}' is not an email address such as name@example.com", echo(.0))]
    Malformed(String),
}

/// An email address as the portal accepts it: trimmed, at most 254 characters, one
/// address without a display name (RFC 5322 through the `email_address` crate), and a
/// domain that names an internet host (at least two labels of letters, digits and
/// inner hyphens; no IP literal). Every address identity stores, notify sends to and
/// SMTP servers receive passes the same check, so an address accepted in one place is
/// never refused in another. Returns the address trimmed, its case kept.
pub fn email(value: &str) -> Result<&str, EmailProblem> {
    use email_address::{EmailAddress, Options};
    let address = value.trim();
    if address.is_empty() {
        return Err(EmailProblem::Missing);
    }
    if address.chars().count() > 254 {
        return Err(EmailProblem::TooLong);
    }
    let options = Options::default().without_display_text().without_domain_literal().with_required_tld();
    let malformed = || EmailProblem::Malformed(address.to_owned());
    let parsed = EmailAddress::parse_with_options(address, options).map_err(|_| malformed())?;
    let host_label = |label: &str| {
        label.chars().all(|c| c.is_alphanumeric() || c == '-') && !label.starts_with('-') && !label.ends_with('-')
    };
    if !parsed.domain().split('.').all(host_label) {
        return Err(malformed());
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_required_bounded_and_printable() {
        assert_eq!(id("id", "0193f1c2-aaaa").unwrap(), "0193f1c2-aaaa");
        assert!(id("id", "").is_err());
        assert!(id("id", &"x".repeat(MAX_ID_CHARS)).is_ok());
        let status = tonic::Status::from(id("user_id", &"x".repeat(10_000)).unwrap_err());
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("invalid request: user_id:") && status.message().len() < 200);
        assert!(id("id", "a\0b").is_err());
        assert_eq!(optional_id("id", "").unwrap(), None);
        assert!(ids("ids", &["a", ""]).unwrap_err().to_string().contains("ids[1]"));
    }

    #[test]
    fn email_addresses_are_checked_once_for_every_service() {
        assert_eq!(email("  Ann.Lee+portal@Example.co.uk ").unwrap(), "Ann.Lee+portal@Example.co.uk");
        assert!(email("zoé@bücher.example").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a b@c.co",
            "A <a@b.co>",
            "a@-b.co",
            "a@b-.co",
            "zoe@ex!ample.com",
            "a@[127.0.0.1]",
            "a@@b.co",
            "a@b..co",
            "a\0@b.co",
        ] {
            assert!(email(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(email(&format!("{}@example.com", "a".repeat(250))), Err(EmailProblem::TooLong));
        let problem = email(&format!("{}@b", "x".repeat(200))).unwrap_err().to_string();
        assert!(problem.len() < 150, "{problem}");
    }
}
