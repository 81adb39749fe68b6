//! Which new passwords are accepted (NIST SP 800-63B style): 12 to 128 characters,
//! no composition rules, never truncated, and not one of the most common passwords,
//! a single repeated character, or the user's own email.

use std::{collections::HashSet, sync::OnceLock};

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest password accepted, in characters.
pub const MAX_CHARS: usize = 128;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejection {
    #[error("must be at least 12 characters")]
    TooShort,
    #[error("must be at most 128 characters")]
    TooLong,
    #[error("is one of the most common passwords; choose a less guessable one, such as a few unrelated words")]
    TooCommon,
    #[error("must not be the email address or one repeated character")]
    TooSimple,
    #[error("must differ from the current password")]
    Unchanged,
}

impl PasswordRejection {
    /// The ErrorInfo reason for this refusal.
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooShort => "PASSWORD_TOO_SHORT",
            Self::TooLong => "PASSWORD_TOO_LONG",
            Self::TooCommon | Self::TooSimple => "PASSWORD_TOO_COMMON",
            Self::Unchanged => "PASSWORD_UNCHANGED",
        }
    }
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt").lines().filter(|line| !line.starts_with('#') && !line.is_empty()).collect()
    })
}

/// Checks a new password for the user whose email is `email`.
pub fn check(password: &str, email: &str) -> Result<(), PasswordRejection> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordRejection::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordRejection::TooLong);
    }
    let lowered = password.to_lowercase();
    if common_passwords().contains(lowered.as_str()) {
        return Err(PasswordRejection::TooCommon);
    }
    let mut distinct = password.chars();
    let first = distinct.next();
    if distinct.all(|c| Some(c) == first) || lowered.trim() == email.trim().to_lowercase() {
        return Err(PasswordRejection::TooSimple);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(check("ééééééééééé", ""), Err(PasswordRejection::TooShort)); // 11 characters, 22 bytes
        assert!(check("é-ü-ß-ø-å-ñ-ç", "").is_ok());
        assert_eq!(check(&"a1".repeat(65), ""), Err(PasswordRejection::TooLong));
        assert!(check(&"a1b2".repeat(32), "").is_ok());
    }

    #[test]
    fn refuses_common_and_trivial_passwords() {
        assert_eq!(check("Qwerty123456", ""), Err(PasswordRejection::TooCommon));
        assert_eq!(check("1q2w3e4r5t6y", ""), Err(PasswordRejection::TooCommon));
        assert_eq!(check("zzzzzzzzzzzzzz", ""), Err(PasswordRejection::TooSimple));
        assert_eq!(check("alice@example.com", "Alice@Example.com"), Err(PasswordRejection::TooSimple));
        assert!(check("correct horse battery staple", "alice@example.com").is_ok());
    }
}
