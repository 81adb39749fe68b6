//! Recipient addresses.

/// Checks an address's shape; returns it trimmed. The error says what is wrong.
pub fn check(email: &str) -> Result<String, String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("is required".into());
    }
    if email.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')) {
        return Err("must be a bare address such as name@example.com".into());
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
    if email.parse::<lettre::Address>().is_err() {
        return Err("is not a valid email address".into());
    }
    Ok(email.to_owned())
}

/// The form addresses are compared in.
pub fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_addresses_and_refuses_the_rest() {
        assert_eq!(super::check(" Ann@Example.com ").unwrap(), "Ann@Example.com");
        for bad in ["", "a", "a@b", "@b.co", "a b@c.co", "A <a@b.co>", "a@-b.co"] {
            assert!(super::check(bad).is_err(), "{bad}");
        }
    }
}
