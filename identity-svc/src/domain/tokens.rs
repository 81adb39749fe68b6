//! One-time tokens of emailed links (invitation, registration confirmation, password
//! recovery): 256 random bits, only their SHA-256 stored, bound to a purpose, a user
//! (or, for a registration, an address) and an email; single-use; expiring. And the
//! links that carry them, built from the configured public base URL only.

use service_kit::clock::Millis;

use super::IdentityError;

/// Bytes of randomness in a link token (256 bits; the floor is 128).
pub const TOKEN_BYTES: usize = 32;
/// Bytes of randomness in a password generated for an invitation accepted without one
/// (32 URL-safe characters).
pub const GENERATED_PASSWORD_BYTES: usize = 24;
/// The longest token text accepted in a request; anything longer is unknown.
pub const MAX_TOKEN_CHARS: usize = 256;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    Confirmation,
    Recovery,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Confirmation => "confirmation",
            Self::Recovery => "recovery",
        }
    }

    /// The path of the portal page the link opens.
    pub fn page(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Confirmation => "confirm-registration",
            Self::Recovery => "recover-password",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Invitation => "invitation link",
            Self::Confirmation => "confirmation link",
            Self::Recovery => "recovery link",
        }
    }

    fn remedy_when_expired(self) -> &'static str {
        match self {
            Self::Invitation => "ask for a new invitation",
            Self::Confirmation => "register again",
            Self::Recovery => "request a new recovery link",
        }
    }

    fn remedy_when_used(self) -> &'static str {
        match self {
            Self::Invitation => "log in, or use password recovery",
            Self::Confirmation => "log in",
            Self::Recovery => "log in, or request a new recovery link",
        }
    }
}

/// The link a token travels in: `{base}/{page}?token={token}`. The base is the
/// `public_base_url` setting, never anything a request said.
pub fn link(public_base_url: &str, purpose: Purpose, token: &str) -> String {
    format!("{}/{}?token={token}", public_base_url.trim_end_matches('/'), purpose.page())
}

/// What a token is worth at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Usable.
    Live,
    Consumed,
    Revoked,
    Expired,
}

impl TokenState {
    /// Used beats revoked beats expired: each says what happened first.
    pub fn of(consumed_at: Option<Millis>, revoked_at: Option<Millis>, expires_at: Millis, now: Millis) -> Self {
        if consumed_at.is_some() {
            Self::Consumed
        } else if revoked_at.is_some() {
            Self::Revoked
        } else if now >= expires_at {
            Self::Expired
        } else {
            Self::Live
        }
    }

    /// `Ok` for a usable token, else the refusal the API gives for it.
    pub fn usable(self, purpose: Purpose) -> Result<(), IdentityError> {
        let what = purpose.what();
        let (reason, message) = match self {
            Self::Live => return Ok(()),
            Self::Consumed => {
                ("TOKEN_ALREADY_USED", format!("this {what} was already used: {}", purpose.remedy_when_used()))
            }
            Self::Revoked => (
                "TOKEN_REVOKED",
                format!("this {what} was cancelled (a newer one was sent, or the account changed): use the newest one"),
            ),
            Self::Expired => ("TOKEN_EXPIRED", format!("this {what} has expired: {}", purpose.remedy_when_expired())),
        };
        Err(IdentityError::Refused(reason, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_the_base_url_only() {
        assert_eq!(
            link("https://portal.example.com/", Purpose::Recovery, "abc"),
            "https://portal.example.com/recover-password?token=abc"
        );
        assert_eq!(link("https://p.example", Purpose::Invitation, "t"), "https://p.example/invitation?token=t");
    }

    #[test]
    fn used_beats_revoked_beats_expired() {
        assert_eq!(TokenState::of(Some(1), Some(2), 0, 10), TokenState::Consumed);
        assert_eq!(TokenState::of(None, Some(2), 0, 10), TokenState::Revoked);
        assert_eq!(TokenState::of(None, None, 10, 10), TokenState::Expired);
        assert_eq!(TokenState::of(None, None, 11, 10), TokenState::Live);
        assert!(TokenState::Live.usable(Purpose::Recovery).is_ok());
        let Err(IdentityError::Refused(reason, _)) = TokenState::Expired.usable(Purpose::Invitation) else {
            panic!("expired tokens are refused")
        };
        assert_eq!(reason, "TOKEN_EXPIRED");
    }
}
