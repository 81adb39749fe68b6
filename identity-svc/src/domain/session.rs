//! When a session is alive: an absolute lifetime from login and an idle lifetime
//! from the last call, both fixed when the session opens (a settings change applies
//! to sessions opened after it). Tokens are 256 random bits; only their SHA-256 is stored.

use service_kit::clock::Millis;

/// Bytes of randomness in a session token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// The stored facts that decide whether a session is alive.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub idle_ms: Millis,
    pub ended: bool,
    pub user_active: bool,
}

impl SessionState {
    /// True while the session may serve calls.
    pub fn is_alive(&self, now: Millis) -> bool {
        !self.ended && self.user_active && now < self.expires_at && now - self.last_seen_at < self.idle_ms
    }

    /// Recording every call as activity would write on every request; a coarse step
    /// (a sixtieth of the idle lifetime, at most a minute) keeps idle expiry accurate enough.
    pub fn activity_due(&self, now: Millis) -> bool {
        now - self.last_seen_at >= (self.idle_ms / 60).min(60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(last_seen_at: Millis) -> SessionState {
        SessionState { last_seen_at, expires_at: 3_600_000, idle_ms: 60_000, ended: false, user_active: true }
    }

    #[test]
    fn idle_and_absolute_expiry_end_a_session() {
        assert!(state(0).is_alive(59_999));
        assert!(!state(0).is_alive(60_000));
        assert!(!state(3_599_000).is_alive(3_600_000));
    }

    #[test]
    fn ended_sessions_and_inactive_users_are_dead() {
        assert!(!SessionState { ended: true, ..state(0) }.is_alive(1));
        assert!(!SessionState { user_active: false, ..state(0) }.is_alive(1));
    }
}
