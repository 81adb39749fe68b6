//! Emails as usernames: one email, one user, compared case-insensitively. Whether a
//! text is an email address at all is the suite's one rule (`service_kit::validate::email`),
//! the same notify applies before sending.

/// The username form of an address: trimmed and lowercased, after checking it is an
/// address. The error says what is wrong, for the field violation.
pub fn normalize(email: &str) -> Result<String, String> {
    service_kit::validate::email(email).map(str::to_lowercase).map_err(|problem| problem.to_string())
}

/// The addresses typed into one "Add users" entry (seed 003: "use spaces or commas to
/// delimit the addresses"): split on whitespace, commas and semicolons, empty pieces
/// dropped, in the order typed.
pub fn split_addresses(entries: &[String]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|entry| entry.split(|c: char| c.is_whitespace() || c == ',' || c == ';'))
        .filter(|piece| !piece.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{normalize, split_addresses};

    #[test]
    fn splits_entries_on_spaces_commas_semicolons_and_lines() {
        let entries = ["a@x.com, b@x.com".to_owned(), " c@x.com d@x.com;e@x.com\r\nf@x.com ;, ".to_owned()];
        assert_eq!(split_addresses(&entries), ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com", "f@x.com"]);
    }

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
