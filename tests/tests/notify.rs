//! Email: templates, the outbox and delivery against a real SMTP server on loopback
//! (issue 3, DESIGN.md §7). Each test runs all-in-one and distributed, on SQLite and
//! on PostgreSQL + Redis, with its own aiosmtpd server (tests/smtp/server.py).
//!
//! `Enqueue` is internal, so tests call notify as a service would: in the distributed
//! mode at notify's own address; in the all-in-one mode (where notify has no address
//! of its own) through a second in-process notify on the suite's database, so the
//! email still travels outbox → worker → SMTP and is seen through the gateway.

use std::{collections::HashMap, time::Duration};

use portal_proto::notify::{
    Delivery, DeliveryState, EnqueueRequest, GetDeliveryRequest, ListDeliveriesRequest, RetryDeliveryRequest,
    delivery_service_client::DeliveryServiceClient, notify_internal_service_client::NotifyInternalServiceClient,
};
use portal_tests::{
    Backend, Mode, Suite, authed,
    smtp::{SmtpServer, counts_by_message_id},
};
use service_kit::{
    Caller, Shutdown,
    clock::Clock,
    config::PortalConfig,
    runner,
    upstream::{self, SignAs, Upstream},
};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

type Internal = NotifyInternalServiceClient<InterceptedService<Upstream, SignAs>>;

/// A suite whose mail goes to a fresh SMTP server, with quick retries.
struct MailSuite {
    suite: Suite,
    smtp: SmtpServer,
    internal: Internal,
    token: String,
    /// Stops the all-in-one test's extra notify when the test ends.
    _replica: Option<StopOnDrop>,
    _smtp_dir: tempfile::TempDir,
}

struct StopOnDrop(Shutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

fn quick_retries(config: &mut PortalConfig, smtp: &SmtpServer) {
    smtp.deliver_here(&mut config.mail, "portal-sender@portal.test");
    config.mail.lease_seconds = 20;
}

impl MailSuite {
    async fn start(mode: Mode, backend: Backend) -> Option<Self> {
        let smtp_dir = tempfile::tempdir().expect("temporary folder");
        let smtp = SmtpServer::start(smtp_dir.path(), 0, 0);
        let suite = Suite::start_with(mode, backend, Clock::system(), |c| quick_retries(c, &smtp)).await?;
        let key = service_kit::assertion::AssertionKey::new(suite.config.assertion.secret.as_bytes(), 60_000);
        let (upstream, replica) = match mode {
            Mode::Distributed => {
                let address = format!("http://{}", suite.service_addresses["notify"]);
                (upstream::remote(&address).expect("notify's address"), None)
            }
            Mode::AllInOne => {
                let context = runner::context_from_config(suite.config.clone(), Clock::system()).expect("context");
                let shutdown = context.shutdown.clone();
                let module = notify_svc::start(context).await.expect("a second notify starts");
                (upstream::local(module.routes), Some(StopOnDrop(shutdown)))
            }
        };
        let internal =
            NotifyInternalServiceClient::with_interceptor(upstream, SignAs::new(key, Caller::service("test")));
        let token = suite.admin_token().await;
        Some(Self { suite, smtp, internal, token, _replica: replica, _smtp_dir: smtp_dir })
    }

    fn deliveries(&self) -> DeliveryServiceClient<Channel> {
        DeliveryServiceClient::new(self.suite.channel())
    }

    async fn enqueue(&mut self, key: &str, to: &str, code: &str, culture: &str, values: &[(&str, &str)]) -> String {
        self.internal
            .enqueue(request(key, to, code, culture, values))
            .await
            .unwrap_or_else(|s| panic!("enqueue {key}: {s:?}"))
            .into_inner()
            .delivery_id
    }

    async fn delivery(&self, id: &str) -> Delivery {
        self.deliveries()
            .get_delivery(authed(GetDeliveryRequest { id: id.into() }, &self.token))
            .await
            .expect("GetDelivery")
            .into_inner()
    }

    /// Waits (bounded) until the delivery reaches `state`.
    async fn wait_state(&self, id: &str, state: DeliveryState, within: Duration) -> Delivery {
        let start = std::time::Instant::now();
        loop {
            let delivery = self.delivery(id).await;
            if delivery.state() == state {
                return delivery;
            }
            assert!(start.elapsed() < within, "delivery never became {state:?}: {delivery:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn request(key: &str, to: &str, code: &str, culture: &str, values: &[(&str, &str)]) -> EnqueueRequest {
    EnqueueRequest {
        idempotency_key: key.into(),
        recipient_email: to.into(),
        recipient_name: "Ann Example".into(),
        culture: culture.into(),
        template_code: code.into(),
        macro_values: values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<HashMap<_, _>>(),
    }
}

const RECOVERY: &str = "Link for password recovery";
const LINK: &str = "https://portal.example.com/recover?token=abc123";

portal_tests::suite_variants!(
    start: |mode, backend| MailSuite::start(mode, backend);
    threads: 2;
    an_enqueued_message_arrives_rendered_in_the_recipients_culture,
    messages_queued_while_the_smtp_server_is_down_arrive_when_it_is_back,
    temporary_failures_retry_and_permanent_ones_dead_letter_until_retried,
    the_same_enqueue_key_creates_one_message,
    enqueue_names_what_is_wrong,
);

async fn an_enqueued_message_arrives_rendered_in_the_recipients_culture(mut mail: MailSuite) {
    let german = mail.enqueue("test:de", "ann@example.com", RECOVERY, "de-DE", &[("RecoveryLinkUrl", LINK)]).await;
    // fr-CA has no template: its language "fr" neither, so en-US is used.
    let english = mail.enqueue("test:fr", "bob@example.com", RECOVERY, "fr-ca", &[("#RecoveryLinkUrl#", LINK)]).await;
    let received = mail.smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(received.len(), 2, "{received:?}");
    for (id, culture, subject, greeting) in [
        (&german, "de-DE", "Portal-Passwort zurücksetzen", "Hallo Ann Example"),
        (&english, "en-US", "Reset your portal password", "Hello Ann Example"),
    ] {
        let delivery = mail.wait_state(id, DeliveryState::Delivered, Duration::from_secs(10)).await;
        assert_eq!(delivery.template_culture, culture);
        assert_eq!(delivery.from_address, "portal-sender@portal.test");
        assert_eq!(delivery.attempts, 1);
        assert!(delivery.deliver_time.is_some() && delivery.next_attempt_time.is_none());
        assert!(delivery.message_id.starts_with(&format!("<{id}@")), "{}", delivery.message_id);
        let message = received.iter().find(|m| m.message_id == delivery.message_id).expect("the message arrived");
        assert_eq!(message.subject, subject);
        assert_eq!(message.envelope_from, "portal-sender@portal.test");
        assert!(message.from.contains("portal-sender@portal.test"), "{}", message.from);
        assert!(message.to.contains(&delivery.recipient_email) && message.to.contains("Ann Example"));
        assert!(message.text.contains(greeting), "{}", message.text);
        assert!(message.text.contains(LINK), "{}", message.text);
        assert!(message.html.contains(&format!("href=\"{LINK}\"")), "{}", message.html);
        assert!(!message.text.contains('#'), "every macro is filled: {}", message.text);
    }
    assert_eq!(mail.delivery(&english).await.culture, "fr-CA");
}

async fn messages_queued_while_the_smtp_server_is_down_arrive_when_it_is_back(mut mail: MailSuite) {
    mail.smtp.stop();
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(
            mail.enqueue(
                &format!("test:down:{n}"),
                &format!("user{n}@example.com"),
                RECOVERY,
                "",
                &[("RecoveryLinkUrl", LINK)],
            )
            .await,
        );
    }
    // Every one fails for lack of a server and waits for its retry.
    for id in &ids {
        let retrying = mail.wait_state(id, DeliveryState::Retrying, Duration::from_secs(20)).await;
        assert!(!retrying.last_error.is_empty());
        assert_eq!(retrying.last_smtp_code, 0, "no reply: {}", retrying.last_error);
        assert!(retrying.next_attempt_time.is_some());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    mail.smtp.restart();
    for id in &ids {
        mail.wait_state(id, DeliveryState::Delivered, Duration::from_secs(30)).await;
    }
    let received = mail.smtp.received();
    let counts = counts_by_message_id(&received);
    assert_eq!(counts.len(), ids.len(), "every message arrived");
    assert!(counts.values().all(|&n| n == 1), "none twice: {counts:?}");
}

async fn temporary_failures_retry_and_permanent_ones_dead_letter_until_retried(mut mail: MailSuite) {
    let busy =
        mail.enqueue("test:busy", "tempfail-2-ann@example.com", RECOVERY, "", &[("RecoveryLinkUrl", LINK)]).await;
    let rejected =
        mail.enqueue("test:reject", "reject-bob@example.com", RECOVERY, "", &[("RecoveryLinkUrl", LINK)]).await;
    let delivered = mail.wait_state(&busy, DeliveryState::Delivered, Duration::from_secs(30)).await;
    assert_eq!(delivered.attempts, 3, "two 451 answers, then success");
    assert_eq!(delivered.last_smtp_code, 451);
    let dead = mail.wait_state(&rejected, DeliveryState::DeadLettered, Duration::from_secs(20)).await;
    assert_eq!(dead.attempts, 1, "a 5xx answer is not retried");
    assert_eq!(dead.last_smtp_code, 550);
    assert!(dead.last_error.contains("550") && dead.last_error.contains("mailbox unavailable"), "{}", dead.last_error);
    assert!(dead.dead_letter_time.is_some() && dead.next_attempt_time.is_none());

    // Only dead letters can be retried.
    let mut deliveries = mail.deliveries();
    let status =
        deliveries.retry_delivery(authed(RetryDeliveryRequest { id: busy.clone() }, &mail.token)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.get_details_error_info().unwrap().reason, "DELIVERY_NOT_DEAD_LETTERED");

    // After the fix, retrying the dead letter delivers it, with the same Message-ID.
    mail.smtp.accept_rejects();
    let queued = deliveries
        .retry_delivery(authed(RetryDeliveryRequest { id: rejected.clone() }, &mail.token))
        .await
        .expect("RetryDelivery")
        .into_inner()
        .delivery
        .unwrap();
    assert!(matches!(queued.state(), DeliveryState::Queued | DeliveryState::Sending | DeliveryState::Delivered));
    let after = mail.wait_state(&rejected, DeliveryState::Delivered, Duration::from_secs(20)).await;
    assert_eq!(after.attempts, 2);
    let received = mail.smtp.received();
    let counts = counts_by_message_id(&received);
    assert_eq!(counts.get(&delivered.message_id), Some(&1), "delivered once");
    assert_eq!(counts.get(&after.message_id), Some(&1));

    // Listing by state and recipient.
    let dead_now = deliveries
        .list_deliveries(authed(
            ListDeliveriesRequest { state: DeliveryState::DeadLettered as i32, ..Default::default() },
            &mail.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(dead_now.deliveries.is_empty());
    let for_ann = deliveries
        .list_deliveries(authed(
            ListDeliveriesRequest { recipient_email: "TEMPFAIL-2-ANN@example.com".into(), ..Default::default() },
            &mail.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(for_ann.deliveries.len(), 1);
    assert_eq!(for_ann.deliveries[0].id, busy);
}

async fn the_same_enqueue_key_creates_one_message(mut mail: MailSuite) {
    let first = mail
        .internal
        .enqueue(request("test:once", "ann@example.com", RECOVERY, "", &[("RecoveryLinkUrl", LINK)]))
        .await
        .unwrap()
        .into_inner();
    assert!(first.newly_created);
    let again = mail
        .internal
        .enqueue(request("test:once", "Ann@Example.com", RECOVERY, "", &[("RecoveryLinkUrl", LINK)]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.delivery_id, first.delivery_id);
    assert!(!again.newly_created);
    let reused = mail
        .internal
        .enqueue(request("test:once", "someone-else@example.com", RECOVERY, "", &[("RecoveryLinkUrl", LINK)]))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::FailedPrecondition);
    assert_eq!(reused.get_details_error_info().unwrap().reason, "IDEMPOTENCY_KEY_REUSED");
    mail.wait_state(&first.delivery_id, DeliveryState::Delivered, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mail.smtp.received().len(), 1);
    let listed = mail
        .deliveries()
        .list_deliveries(authed(
            ListDeliveriesRequest { recipient_email: "ann@example.com".into(), ..Default::default() },
            &mail.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.deliveries.len(), 1);
}

async fn enqueue_names_what_is_wrong(mut mail: MailSuite) {
    let missing = mail.internal.enqueue(request("test:bad1", "ann@example.com", RECOVERY, "", &[])).await.unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    let info = missing.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "MACRO_VALUE_MISSING");
    assert_eq!(info.metadata["macro"], "RecoveryLinkUrl");
    assert_eq!(missing.get_details_bad_request().unwrap().field_violations[0].field, "macro_values[RecoveryLinkUrl]");

    let unknown =
        mail.internal.enqueue(request("test:bad2", "ann@example.com", "No such code", "", &[])).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(unknown.get_details_error_info().unwrap().reason, "TEMPLATE_NOT_FOUND");

    let malformed = mail.internal.enqueue(request("", "not-an-address", RECOVERY, "english!", &[])).await.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        malformed.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["idempotency_key", "recipient_email", "culture"]);

    // Through the gateway the internal service does not exist.
    let mut public = NotifyInternalServiceClient::new(mail.suite.channel());
    let status = public.enqueue(authed(request("k", "a@b.co", RECOVERY, "", &[]), &mail.token)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}
