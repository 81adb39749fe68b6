//! Brute-force protection: failed logins are counted per account and per client
//! address; past a threshold every further attempt is refused for a delay that
//! doubles with each failure, up to a maximum. Never a permanent lock (which an
//! attacker could use to lock people out), and a refused attempt gets exactly the
//! answer a wrong password gets.

use service_kit::clock::Millis;

/// The delay after the first failure past the threshold; each further failure doubles it.
pub const BASE_DELAY_MS: Millis = 1_000;
/// Failures older than this are forgotten: counting starts again.
pub const FORGET_AFTER_MS: Millis = 24 * 3600 * 1000;

/// The counting scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Keyed by the normalised email, whether or not such an account exists.
    Account,
    /// Keyed by the client's network address, across accounts.
    Address,
    /// Unknown link tokens presented from one client address.
    TokenAddress,
    /// Registrations and recovery requests from one client address.
    MailRequestAddress,
    /// Registrations and recovery requests for one email (normalised).
    MailRequestEmail,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Address => "address",
            Self::TokenAddress => "token_address",
            Self::MailRequestAddress => "mail_request_address",
            Self::MailRequestEmail => "mail_request_email",
        }
    }
}

/// The thresholds and the ceiling in force.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub account_threshold: i64,
    pub address_threshold: i64,
    pub max_delay_ms: Millis,
}

impl Throttle {
    fn threshold(&self, scope: Scope) -> i64 {
        match scope {
            Scope::Account | Scope::MailRequestEmail => self.account_threshold,
            Scope::Address | Scope::TokenAddress | Scope::MailRequestAddress => self.address_threshold,
        }
    }

    /// After `failures` counted failures in `scope`, how long attempts are refused
    /// (zero below the threshold).
    pub fn delay_after(&self, scope: Scope, failures: i64) -> Millis {
        let beyond = failures - self.threshold(scope);
        if beyond < 0 {
            return 0;
        }
        let doubled = BASE_DELAY_MS.saturating_mul(1_i64.checked_shl(beyond.min(62) as u32).unwrap_or(i64::MAX));
        doubled.min(self.max_delay_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROTTLE: Throttle = Throttle { account_threshold: 5, address_threshold: 50, max_delay_ms: 900_000 };

    #[test]
    fn the_delay_starts_at_the_threshold_and_doubles_up_to_the_ceiling() {
        assert_eq!(THROTTLE.delay_after(Scope::Account, 4), 0);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 5), 1_000);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 6), 2_000);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 14), 512_000);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 15), 900_000);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 10_000), 900_000);
        assert_eq!(THROTTLE.delay_after(Scope::Address, 49), 0);
    }
}
