//! Identity's email: the use cases write an outbox row in the transaction of the change
//! that needs the email (`Store::queue_email`), then wake the relay, which hands each row
//! to notify-svc's `NotifyInternalService.Enqueue` with the row id in the idempotency key.
//!
//! notify being down, slow or not started yet delays email, never drops it: unreachable
//! or failing calls are retried with growing delays for as long as it takes. An answer
//! that retrying cannot change (an address or macro refused, a template missing) gives
//! the row up at once (a dead letter), with the reason recorded on it.
//! Retry timing is wall-clock time (not the service clock, which tests may stop).

use std::{collections::HashMap, sync::Arc, time::Duration};

use portal_proto::notify::{EnqueueRequest, notify_internal_service_client::NotifyInternalServiceClient};
use service_kit::{
    Shutdown, SignedUpstream, Upstreams,
    assertion::AssertionKey,
    clock::{Clock, Millis},
};
use tokio::sync::Notify;
use tonic::Code;

use crate::storage::{OutboxRow, Store};

/// How many rows one pass relays at most.
const BATCH: i64 = 50;
/// How often the outbox is looked at when nobody wakes the relay.
const POLL: Duration = Duration::from_secs(2);
/// How long notify may take to answer one Enqueue.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a claimed row is left alone if the relay dies mid-call.
const LEASE_MS: Millis = 60_000;
/// The first retry delay; each further failure doubles it, up to `MAX_RETRY_MS`.
const FIRST_RETRY_MS: Millis = 500;
const MAX_RETRY_MS: Millis = 60_000;

/// The wake-up handle the use cases use after committing an email.
#[derive(Debug, Clone, Default)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    /// Tells the relay that a row was committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Relays the outbox to notify-svc until the process stops.
pub struct Relay {
    store: Store,
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
    wake: Arc<Notify>,
    wall: Clock,
}

/// Whether an Enqueue failure can go away by itself.
fn transient(code: Code) -> bool {
    !matches!(
        code,
        Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition | Code::AlreadyExists | Code::OutOfRange
    )
}

/// The delay before attempt `attempts + 1`.
fn backoff(attempts: i64) -> Millis {
    let doublings = attempts.clamp(1, 20) - 1;
    (FIRST_RETRY_MS << doublings).min(MAX_RETRY_MS)
}

impl Relay {
    pub fn new(store: Store, upstreams: Arc<Upstreams>, key: AssertionKey, mailer: &Mailer) -> Self {
        Self { store, upstreams, key, wake: mailer.wake.clone(), wall: Clock::system() }
    }

    /// Relays until `shutdown`; a pass in progress is finished first.
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            let idle = match self.relay_once().await {
                Ok(relayed) if relayed as i64 == BATCH => continue,
                Ok(_) => POLL,
                Err(error) => {
                    tracing::warn!(%error, "identity's mail outbox is unavailable; trying again");
                    POLL
                }
            };
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
        tracing::debug!("identity's mail relay stopped");
    }

    /// One pass over the due rows; returns how many were looked at.
    async fn relay_once(&self) -> Result<usize, crate::domain::IdentityError> {
        let now = self.wall.now();
        let due = self.store.due_emails(now, BATCH).await?;
        let count = due.len();
        for row in due {
            if self.store.claim_email(&row, now + LEASE_MS).await? {
                self.attempt(row).await?;
            }
        }
        Ok(count)
    }

    /// The notify client, resolved now: in the all-in-one mode notify is in this process,
    /// in the distributed mode it is `upstreams.notify`.
    fn client(&self) -> Option<NotifyInternalServiceClient<SignedUpstream>> {
        Some(NotifyInternalServiceClient::new(self.upstreams.signed("notify", &self.key, "identity")?))
    }

    async fn attempt(&self, row: OutboxRow) -> Result<(), crate::domain::IdentityError> {
        let attempts = row.attempts + 1;
        let macro_values: HashMap<String, String> = serde_json::from_str(&row.macro_values).unwrap_or_default();
        let request = EnqueueRequest {
            idempotency_key: format!("identity:outbox:{}", row.id),
            recipient_email: row.recipient_email.clone(),
            recipient_name: row.recipient_name.chars().take(200).collect(),
            culture: row.culture.clone(),
            template_code: row.template_code.clone(),
            macro_values,
        };
        let outcome = match self.client() {
            None => Err((Code::Unavailable, "notify is not configured (upstreams.notify)".to_owned())),
            Some(mut client) => match tokio::time::timeout(CALL_TIMEOUT, client.enqueue(request)).await {
                Ok(Ok(answer)) => Ok(answer.into_inner().delivery_id),
                Ok(Err(status)) => Err((status.code(), status.message().to_owned())),
                Err(_) => Err((Code::DeadlineExceeded, "notify did not answer in time".to_owned())),
            },
        };
        let now = self.wall.now();
        match outcome {
            Ok(delivery_id) => {
                tracing::debug!(outbox_id = %row.id, %delivery_id, "email handed to notify");
                self.store.email_relayed(&row.id, &delivery_id, now).await
            }
            Err((code, message)) => {
                let give_up = !transient(code);
                let error = format!("{code:?}: {message}");
                if give_up {
                    tracing::error!(outbox_id = %row.id, template = %row.template_code, %error, "email given up");
                } else {
                    tracing::warn!(outbox_id = %row.id, attempts, %error, "email not handed to notify yet; retrying");
                }
                let retry_at = (!give_up).then(|| now + backoff(attempts));
                self.store.email_failed(&row.id, &error, retry_at, now).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_slow_down_up_to_a_ceiling() {
        assert_eq!(backoff(1), 500);
        assert_eq!(backoff(2), 1_000);
        assert_eq!(backoff(8), 60_000);
        assert_eq!(backoff(1_000), 60_000);
    }

    #[test]
    fn only_refusals_retrying_cannot_change_are_given_up() {
        assert!(transient(Code::Unavailable) && transient(Code::DeadlineExceeded) && transient(Code::Internal));
        assert!(!transient(Code::InvalidArgument) && !transient(Code::NotFound));
    }
}
