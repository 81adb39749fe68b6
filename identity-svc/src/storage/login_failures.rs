//! Failed-login counters. Each failure is one atomic upsert, so parallel guesses are
//! all counted, on PostgreSQL and SQLite alike.

use service_kit::clock::Millis;

use super::Store;
use crate::domain::{
    IdentityError,
    brute_force::{FORGET_AFTER_MS, Scope, Throttle},
};

impl Store {
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

    /// Counts one failure and extends the refusal window as the throttle says.
    pub async fn record_failure(
        &self,
        scope: Scope,
        subject: &str,
        throttle: Throttle,
        now: Millis,
    ) -> Result<i64, IdentityError> {
        let mut tx = self.db.pool.begin().await?;
        let (failures,): (i64,) = sqlx::query_as(
            "INSERT INTO login_failures (scope, subject, failures, last_failure_at, blocked_until) \
             VALUES ($1, $2, 1, $3, 0) ON CONFLICT (scope, subject) DO UPDATE SET \
             failures = CASE WHEN login_failures.last_failure_at < $4 THEN 1 ELSE login_failures.failures + 1 END, \
             last_failure_at = $3 RETURNING failures",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(now)
        .bind(now - FORGET_AFTER_MS)
        .fetch_one(&mut *tx)
        .await?;
        let delay = throttle.delay_after(scope, failures);
        if delay > 0 {
            sqlx::query(
                "UPDATE login_failures SET blocked_until = $1 WHERE scope = $2 AND subject = $3 AND blocked_until < $1",
            )
            .bind(now + delay)
            .bind(scope.as_str())
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(failures)
    }

    /// Forgets the failures of `subject` (after a successful login).
    pub async fn clear_failures(&self, scope: Scope, subject: &str) -> Result<(), IdentityError> {
        sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}
