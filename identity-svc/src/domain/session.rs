//! When a session is alive: an absolute lifetime from login and an idle lifetime
//! from the last call. Tokens are 256 random bits; only their SHA-256 is stored.

use service_kit::clock::Millis;

/// Bytes of randomness in a session token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// Session lifetimes, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_ms: Millis,
    pub absolute_ms: Millis,
}

/// The stored facts that decide whether a session is alive.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub ended: bool,
    pub user_active: bool,
}

impl SessionPolicy {
    /// The absolute expiry of a session opened at `now`.
    pub fn expiry_from(&self, now: Millis) -> Millis {
        now + self.absolute_ms
    }

    /// True while the session may serve calls.
    pub fn is_alive(&self, state: &SessionState, now: Millis) -> bool {
        !state.ended
            && state.user_active
            && now < state.expires_at
            && now - state.last_seen_at < self.idle_ms
    }

    /// Recording every call as activity would write on every request; a coarse
    /// step (a sixtieth of the idle lifetime, at most a minute) keeps idle expiry accurate enough.
    pub fn activity_due(&self, state: &SessionState, now: Millis) -> bool {
        now - state.last_seen_at >= (self.idle_ms / 60).min(60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SessionPolicy = SessionPolicy {
        idle_ms: 60_000,
        absolute_ms: 3_600_000,
    };

    fn state(last_seen_at: Millis) -> SessionState {
        SessionState {
            last_seen_at,
            expires_at: POLICY.expiry_from(0),
            ended: false,
            user_active: true,
        }
    }

    #[test]
    fn idle_and_absolute_expiry_end_a_session() {
        assert!(POLICY.is_alive(&state(0), 59_999));
        assert!(!POLICY.is_alive(&state(0), 60_000));
        assert!(!POLICY.is_alive(&state(3_599_000), 3_600_000));
    }

    #[test]
    fn ended_sessions_and_inactive_users_are_dead() {
        assert!(!POLICY.is_alive(
            &SessionState {
                ended: true,
                ..state(0)
            },
            1
        ));
        assert!(!POLICY.is_alive(
            &SessionState {
                user_active: false,
                ..state(0)
            },
            1
        ));
    }
}
