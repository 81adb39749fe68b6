//! The sender address: the SSPRegistrationMailbox setting, read from identity at
//! send time (cached briefly), or the configured `mail.from_address` when identity
//! cannot say (not reachable, not implemented yet, setting empty).

use std::{sync::Arc, time::Duration};

use portal_proto::identity::{GetMailSettingsRequest, identity_internal_service_client::IdentityInternalServiceClient};
use service_kit::{
    Caller, Upstreams,
    assertion::AssertionKey,
    clock::{Clock, Millis},
    upstream::SignAs,
};
use tokio::sync::Mutex;

/// How long an answer (or a fallback) is reused before identity is asked again.
const CACHE_MS: Millis = 30_000;
/// How long identity may take to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves the sender of outgoing mail.
pub struct SenderAddress {
    upstreams: Arc<Upstreams>,
    key: AssertionKey,
    fallback: String,
    clock: Clock,
    cached: Mutex<Option<(String, Millis)>>,
}

impl SenderAddress {
    pub fn new(upstreams: Arc<Upstreams>, key: AssertionKey, fallback: String, clock: Clock) -> Self {
        Self { upstreams, key, fallback, clock, cached: Mutex::new(None) }
    }

    /// The sender to use now.
    pub async fn current(&self) -> String {
        let now = self.clock.now();
        let mut cached = self.cached.lock().await;
        if let Some((address, at)) = cached.as_ref()
            && now - at < CACHE_MS
        {
            return address.clone();
        }
        let address = self.ask_identity().await.unwrap_or_else(|| self.fallback.clone());
        *cached = Some((address.clone(), now));
        address
    }

    async fn ask_identity(&self) -> Option<String> {
        let upstream = self.upstreams.get("identity")?;
        let mut client = IdentityInternalServiceClient::with_interceptor(
            upstream,
            SignAs::new(self.key.clone(), Caller::service("notify")),
        );
        match tokio::time::timeout(ASK_TIMEOUT, client.get_mail_settings(GetMailSettingsRequest {})).await {
            Ok(Ok(answer)) => {
                let mailbox = answer.into_inner().ssp_registration_mailbox;
                let mailbox = mailbox.trim();
                if mailbox.is_empty() {
                    None
                } else if service_kit::validate::email(mailbox).is_ok() {
                    Some(mailbox.to_owned())
                } else {
                    tracing::warn!(%mailbox, "SSPRegistrationMailbox is not a valid address; using mail.from_address");
                    None
                }
            }
            Ok(Err(status)) => {
                tracing::debug!(code = ?status.code(), "identity gave no mail settings; using mail.from_address");
                None
            }
            Err(_) => {
                tracing::warn!("identity did not answer GetMailSettings in time; using mail.from_address");
                None
            }
        }
    }
}
