//! Brute-force protection. A login attempt is counted (reserved) before its password is
//! verified, against three counters: the account from this client address, the client
//! address across accounts, and the account from everywhere. Each lets its threshold's
//! worth of attempts through; past it, one attempt per refusal delay, which doubles with
//! each further attempt up to a maximum. So a parallel burst verifies at most the
//! threshold's worth, never a permanent lock, and a refused attempt gets exactly the
//! answer a wrong password gets.
//!
//! The account-wide counter stands far above the per-address one (ten times) and counts an
//! attempt below its ceiling only while the attempt's account × address counter is within
//! its threshold: an address guessing once per refusal window keeps only itself out, and
//! the owner logging in from another address is refused only when many addresses have
//! failed together (and then for a bounded delay).

use service_kit::clock::Millis;

/// The delay after the first attempt at the threshold; each further attempt doubles it.
pub const BASE_DELAY_MS: Millis = 1_000;
/// Attempts older than this are forgotten: counting starts again.
pub const FORGET_AFTER_MS: Millis = 24 * 3600 * 1000;
/// How far the account-wide ceiling stands above the account × address threshold.
pub const ACCOUNT_CEILING_FACTOR: i64 = 10;

/// The counting scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Logins to one account (normalised email, whether or not it exists) from one client address.
    AccountAddress,
    /// Logins to one account from every address (the ceiling).
    Account,
    /// Logins from one client address, across accounts.
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
            Self::AccountAddress => "account_address",
            Self::Account => "account",
            Self::Address => "address",
            Self::TokenAddress => "token_address",
            Self::MailRequestAddress => "mail_request_address",
            Self::MailRequestEmail => "mail_request_email",
        }
    }
}

/// The counters of a login attempt for `account` (normalised email) from `client_address`,
/// narrowest first (the order they are reserved in, which is also the lock order).
pub fn login_counters(account: &str, client_address: &str) -> Vec<(Scope, String)> {
    let mut counters = vec![(Scope::AccountAddress, account_address(account, client_address))];
    if !client_address.is_empty() {
        counters.push((Scope::Address, client_address.to_owned()));
    }
    counters.push((Scope::Account, account.to_owned()));
    counters
}

/// The subject of the account × address counter.
pub fn account_address(account: &str, client_address: &str) -> String {
    format!("{account}|{client_address}")
}

/// The thresholds and the ceiling in force.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub account_threshold: i64,
    pub address_threshold: i64,
    pub max_delay_ms: Millis,
}

impl Throttle {
    /// How many attempts a counter of `scope` lets through before delays start.
    pub fn threshold(&self, scope: Scope) -> i64 {
        match scope {
            Scope::AccountAddress | Scope::MailRequestEmail => self.account_threshold,
            Scope::Account => self.account_threshold.saturating_mul(ACCOUNT_CEILING_FACTOR),
            Scope::Address | Scope::TokenAddress | Scope::MailRequestAddress => self.address_threshold,
        }
    }

    /// Whether a wider counter below its threshold counts an attempt, given the counts the
    /// narrower counters before it reached: only while each of them is within its own
    /// threshold, so that the attempts one narrow subject makes past its threshold (one
    /// per delay) never add up to a wider refusal.
    pub fn counts_below_threshold(&self, narrower: &[(Scope, i64)]) -> bool {
        narrower.iter().all(|(scope, attempts)| *attempts <= self.threshold(*scope))
    }

    /// After `failures` counted attempts in `scope`, how long further attempts are
    /// refused (zero below the threshold).
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
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 4), 0);
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 5), 1_000);
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 6), 2_000);
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 14), 512_000);
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 15), 900_000);
        assert_eq!(THROTTLE.delay_after(Scope::AccountAddress, 10_000), 900_000);
        assert_eq!(THROTTLE.delay_after(Scope::Address, 49), 0);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 49), 0);
        assert_eq!(THROTTLE.delay_after(Scope::Account, 50), 1_000);
    }

    #[test]
    fn a_login_counts_per_account_and_address_then_address_then_account() {
        let counters = login_counters("ann@example.com", "203.0.113.7");
        let shape: Vec<_> = counters.iter().map(|(scope, subject)| (*scope, subject.as_str())).collect();
        assert_eq!(
            shape,
            [
                (Scope::AccountAddress, "ann@example.com|203.0.113.7"),
                (Scope::Address, "203.0.113.7"),
                (Scope::Account, "ann@example.com"),
            ]
        );
        assert_eq!(login_counters("ann@example.com", "").len(), 2, "no address, no address counter");
    }

    #[test]
    fn wider_counters_count_only_what_the_narrower_ones_let_through_freely() {
        assert!(THROTTLE.counts_below_threshold(&[]));
        assert!(THROTTLE.counts_below_threshold(&[(Scope::AccountAddress, 5)]));
        assert!(!THROTTLE.counts_below_threshold(&[(Scope::AccountAddress, 6)]));
        assert!(!THROTTLE.counts_below_threshold(&[(Scope::AccountAddress, 1), (Scope::Address, 51)]));
    }
}
