//! Emails as usernames: one email, one user, compared case-insensitively. Whether a
//! text is an email address at all is the suite's one rule (`service_kit::validate::email`),
//! the same notify applies before sending.

/// The username form of an address: trimmed and lowercased, after checking it is an
/// address. The error says what is wrong, for the field violation.
pub fn normalize(email: &str) -> Result<String, String> {
    service_kit::validate::email(email).map(str::to_lowercase).map_err(|problem| problem.to_string())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_case_and_spaces() {
        assert_eq!(normalize("  Alice@Example.COM ").unwrap(), "alice@example.com");
    }

    #[test]
    fn refuses_what_notify_could_not_send_to() {
        for bad in ["", "Bad Address", "a@b", "@x.com", "a@.com", "a@x..com", "a@@x.com", "zoe@ex!ample.com"] {
            assert!(normalize(bad).is_err(), "{bad} was accepted");
        }
    }
}
