//! Emails as usernames: one email, one user, compared case-insensitively.

/// The username form of an address: trimmed and lowercased, after checking its shape.
/// The error says what is wrong, for the field violation.
pub fn normalize(email: &str) -> Result<String, String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("is required".into());
    }
    if email.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("must be an email address such as name@example.com".into());
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err("must have one @ with a name of 1 to 64 characters before it".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-')) {
        return Err("must end in a domain such as example.com".into());
    }
    Ok(email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_case_and_spaces() {
        assert_eq!(normalize("  Alice@Example.COM ").unwrap(), "alice@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in ["", "Bad Address", "a@b", "@x.com", "a@.com", "a@x..com", "a@@x.com"] {
            assert!(normalize(bad).is_err(), "{bad} was accepted");
        }
    }
}
