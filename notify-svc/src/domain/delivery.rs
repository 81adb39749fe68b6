//! Deliveries: where each stands, and what a failed attempt leads to.

use service_kit::clock::Millis;

/// Where a delivery stands; the numbers are stored and equal the proto's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Queued = 1,
    Sending = 2,
    Delivered = 3,
    Retrying = 4,
    DeadLettered = 5,
}

impl DeliveryState {
    pub fn from_stored(value: i16) -> Self {
        match value {
            1 => Self::Queued,
            2 => Self::Sending,
            3 => Self::Delivered,
            4 => Self::Retrying,
            _ => Self::DeadLettered,
        }
    }

    pub fn stored(self) -> i16 {
        self as i16
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "being sent",
            Self::Delivered => "delivered",
            Self::Retrying => "waiting for a retry",
            Self::DeadLettered => "dead-lettered",
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth retrying: a 4xx reply (`code`), a timeout or a refused connection (`code` 0).
    Temporary { code: u16, reason: String },
    /// Not worth retrying: a 5xx reply, or a message that cannot be sent as it is.
    Permanent { code: u16, reason: String },
}

impl Failure {
    pub fn code(&self) -> u16 {
        match self {
            Self::Temporary { code, .. } | Self::Permanent { code, .. } => *code,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Temporary { reason, .. } | Self::Permanent { reason, .. } => reason,
        }
    }
}

/// What becomes of a delivery after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(Millis),
    DeadLetter(String),
}

/// Exponential backoff with jitter, and the time after which a delivery is given up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub initial_ms: i64,
    pub max_ms: i64,
    pub give_up_after_ms: i64,
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`, after `attempts` failed ones, without
    /// jitter: initial, doubling, at most max.
    pub fn base_delay(&self, attempts: i32) -> i64 {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.initial_ms.saturating_mul(1i64 << doublings).min(self.max_ms)
    }

    /// Decides after a failed attempt. `jitter` in [0, 1) spreads retries over ±20% of
    /// the delay so that replicas and recipients are not hit in waves.
    pub fn after(
        &self,
        failure: &Failure,
        attempts: i32,
        window_start: Millis,
        now: Millis,
        jitter: f64,
    ) -> AfterFailure {
        match failure {
            Failure::Permanent { reason, .. } => AfterFailure::DeadLetter(reason.clone()),
            Failure::Temporary { reason, .. } => {
                let base = self.base_delay(attempts) as f64;
                let delay = (base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as i64;
                let at = now + delay.max(1);
                if at - window_start > self.give_up_after_ms {
                    AfterFailure::DeadLetter(format!(
                        "gave up after {} attempts over {} hours; last error: {reason}",
                        attempts,
                        (now - window_start) / 3_600_000
                    ))
                } else {
                    AfterFailure::RetryAt(at)
                }
            }
        }
    }
}

/// A number in [0, 1) from the operating system's generator.
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    u32::from_le_bytes(bytes) as f64 / (u32::MAX as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { initial_ms: 30_000, max_ms: 3_600_000, give_up_after_ms: 3 * 24 * 3_600_000 };

    fn temporary() -> Failure {
        Failure::Temporary { code: 451, reason: "451 try later".into() }
    }

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        let delays: Vec<_> = (1..=9).map(|a| POLICY.base_delay(a)).collect();
        assert_eq!(delays, [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
        assert_eq!(POLICY.base_delay(1000), 3_600_000);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for (jitter, expected) in [(0.0, 24_000), (0.5, 30_000), (0.999_999, 35_999)] {
            assert_eq!(POLICY.after(&temporary(), 1, 0, 0, jitter), AfterFailure::RetryAt(expected));
        }
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn permanent_failures_and_old_messages_are_dead_lettered() {
        let permanent = Failure::Permanent { code: 550, reason: "550 no such user".into() };
        assert_eq!(POLICY.after(&permanent, 1, 0, 0, 0.5), AfterFailure::DeadLetter("550 no such user".into()));
        let three_days = 3 * 24 * 3_600_000;
        match POLICY.after(&temporary(), 80, 0, three_days, 0.5) {
            AfterFailure::DeadLetter(reason) => assert!(reason.contains("451 try later"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
