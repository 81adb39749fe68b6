//! Attempt counters for brute-force protection and the emailed-link limits. An attempt
//! is reserved before it is acted on (a login's password verified, a link's email sent),
//! in one transaction over all its counters, each one atomic upsert; so parallel attempts
//! are all counted and refused alike, on PostgreSQL and SQLite.

use service_kit::clock::Millis;

use super::Store;
use crate::domain::{
    IdentityError,
    brute_force::{FORGET_AFTER_MS, Scope, Throttle},
};

/// The counts one reserved attempt added to, so that a successful login can give them back.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The counters that counted the attempt, narrowest first; the first counter counts
    /// every attempt it lets through, so it always leads.
    counted: Vec<(Scope, String)>,
}

impl Store {
    /// Reserves one attempt against each of `counters` (narrowest first, which is also the
    /// lock order), before the attempt is acted on. `None`, with nothing counted, while
    /// any of them is refusing attempts. Otherwise each counter counts it (a wider one
    /// below its threshold only as [`Throttle::counts_below_threshold`] says) and starts or
    /// extends its refusal delay as the throttle says.
    pub async fn reserve_attempt(
        &self,
        counters: &[(Scope, String)],
        throttle: Throttle,
        now: Millis,
    ) -> Result<Option<Reservation>, IdentityError> {
        let mut tx = self.db.begin().await?;
        let mut reached = Vec::with_capacity(counters.len());
        let mut counted = Vec::with_capacity(counters.len());
        for (scope, subject) in counters {
            let counts = throttle.counts_below_threshold(&reached);
            let threshold = throttle.threshold(*scope);
            // Forgotten counts start again from zero; the attempt is added when it counts
            // below the threshold, and always at or past it.
            let row: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO login_failures (scope, subject, failures, last_failure_at, blocked_until) \
                 VALUES ($1, $2, $3, $4, 0) ON CONFLICT (scope, subject) DO UPDATE SET \
                 failures = CASE WHEN login_failures.last_failure_at < $5 THEN $3 \
                 WHEN $3 = 1 OR login_failures.failures >= $6 THEN login_failures.failures + 1 \
                 ELSE login_failures.failures END, \
                 last_failure_at = $4 WHERE login_failures.blocked_until <= $4 RETURNING failures",
            )
            .bind(scope.as_str())
            .bind(subject)
            .bind(i64::from(counts))
            .bind(now)
            .bind(now - FORGET_AFTER_MS)
            .bind(threshold)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((attempts,)) = row else {
                return Ok(None);
            };
            reached.push((*scope, attempts));
            if counts || attempts > threshold {
                counted.push((*scope, subject.clone()));
                let delay = throttle.delay_after(*scope, attempts);
                if delay > 0 {
                    sqlx::query(
                        "UPDATE login_failures SET blocked_until = $1 \
                         WHERE scope = $2 AND subject = $3 AND blocked_until < $1",
                    )
                    .bind(now + delay)
                    .bind(scope.as_str())
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(Some(Reservation { counted }))
    }

    /// After a successful login: clears the narrowest counter (the account from this
    /// address) and gives the attempt back to the wider ones it counted in, ending their
    /// refusal delay when that takes them below their threshold.
    pub async fn release_attempt(&self, reservation: &Reservation, throttle: Throttle) -> Result<(), IdentityError> {
        let Some(((scope, subject), wider)) = reservation.counted.split_first() else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        for (scope, subject) in wider {
            sqlx::query(
                "UPDATE login_failures SET failures = failures - 1, \
                 blocked_until = CASE WHEN failures - 1 < $3 THEN 0 ELSE blocked_until END \
                 WHERE scope = $1 AND subject = $2 AND failures > 0",
            )
            .bind(scope.as_str())
            .bind(subject)
            .bind(throttle.threshold(*scope))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
    /// Until when attempts in `scope` for `subject` are refused (0 when they are not).
    pub async fn blocked_until(&self, scope: Scope, subject: &str) -> Result<Millis, IdentityError> {
        let row: Option<(Millis,)> =
            sqlx::query_as("SELECT blocked_until FROM login_failures WHERE scope = $1 AND subject = $2")
                .bind(scope.as_str())
                .bind(subject)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.map_or(0, |(until,)| until))
    }

    /// Forgets the failures of `subject` (after a password recovery).
    pub async fn clear_failures(&self, scope: Scope, subject: &str) -> Result<(), IdentityError> {
        sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }
}
