//! The case service's email: rows of the outbox (written with the case change that asks
//! for them) are relayed to notify-svc's `Enqueue` with the row id in the idempotency
//! key, so a retried relay never sends twice. The recipient's address, name and culture
//! are looked up in identity when relaying. Retries use wall-clock time with growing
//! delays; a recipient identity does not know is given up with the reason recorded.

use std::{collections::HashMap, sync::Arc, time::Duration};

use portal_proto::notify::{EnqueueRequest, notify_internal_service_client::NotifyInternalServiceClient};
use service_kit::{Caller, Shutdown, Upstreams, assertion::AssertionKey, clock::Clock, upstream::SignAs};
use tonic::Code;

use crate::{
    directory::Directory,
    domain::CaseError,
    storage::{Store, outbox::OutboxRow},
};

const BATCH: i64 = 50;
const POLL: Duration = Duration::from_millis(500);
const LEASE_MS: i64 = 60_000;
const MAX_ATTEMPTS: i64 = 30;

/// Relays the outbox until the process stops.
#[derive(Debug, Clone)]
pub struct Relay {
    pub store: Store,
    pub directory: Directory,
    pub upstreams: Arc<Upstreams>,
    pub key: AssertionKey,
}

fn backoff(attempts: i64) -> i64 {
    (500i64 << attempts.clamp(0, 7)).min(60_000)
}

impl Relay {
    pub async fn run(self, shutdown: Shutdown) {
        let wall = Clock::system();
        while !shutdown.is_triggered() {
            if let Err(error) = self.relay_once(&wall).await {
                tracing::warn!(%error, "case mail outbox unavailable; trying again");
            }
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn relay_once(&self, wall: &Clock) -> Result<(), CaseError> {
        let now = wall.now();
        for row in self.store.due_mail(now, BATCH).await? {
            if self.store.claim_mail(&row, now, now + LEASE_MS).await? {
                let outcome = self.send(&row).await;
                let now = wall.now();
                match outcome {
                    Ok(()) => self.store.mail_sent(&row.id, now).await?,
                    Err((transient, error)) => {
                        let retry = (transient && row.attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff(row.attempts));
                        self.store.mail_failed(&row.id, &error, retry, now).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), (bool, String)> {
        let person = match self.directory.person(&row.recipient_user_id).await {
            Ok(Some(person)) if !person.email.is_empty() => person,
            Ok(_) => return Err((false, format!("user {} has no email address", row.recipient_user_id))),
            Err(error) => return Err((true, error.to_string())),
        };
        let upstream = self.upstreams.get("notify").ok_or((true, "notify is not configured".to_owned()))?;
        let mut client = NotifyInternalServiceClient::with_interceptor(
            upstream,
            SignAs::new(self.key.clone(), Caller::service("case")),
        );
        let macro_values: HashMap<String, String> = serde_json::from_str(&row.macro_values).unwrap_or_default();
        let request = EnqueueRequest {
            idempotency_key: format!("case:outbox:{}", row.id),
            recipient_email: person.email,
            recipient_name: person.full_name.chars().take(200).collect(),
            culture: person.culture,
            template_code: row.template_code.clone(),
            macro_values,
        };
        match tokio::time::timeout(Duration::from_secs(5), client.enqueue(request)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(status)) => Err((
                !matches!(status.code(), Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition),
                status.message().to_owned(),
            )),
            Err(_) => Err((true, "notify did not answer in time".to_owned())),
        }
    }
}
