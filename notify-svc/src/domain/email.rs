//! Recipient addresses: checked with the suite's one rule (`service_kit::validate::email`),
//! the same identity applies to usernames, so an address identity accepted is never
//! refused here.

/// Checks an address; returns it trimmed. The error says what is wrong.
pub fn check(email: &str) -> Result<String, String> {
    service_kit::validate::email(email).map(str::to_owned).map_err(|problem| problem.to_string())
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
        for bad in ["", "a", "a@b", "@b.co", "a b@c.co", "A <a@b.co>", "a@-b.co", "zoe@ex!ample.com"] {
            assert!(super::check(bad).is_err(), "{bad}");
        }
    }
}
