//! notify-svc as operators run it, against a real SMTP server on loopback
//! (tests/smtp/server.py): killed with SIGKILL in the middle of draining 1,000
//! messages and restarted, stopped with SIGTERM mid-delivery and restarted, and two
//! replicas draining one PostgreSQL queue.
//! The PostgreSQL variants need PORTAL_TEST_DATABASE_URL (they report a skip without).

#[path = "../../tests/smtp/harness.rs"]
mod smtp;

use std::{
    collections::HashMap,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use portal_proto::notify::{
    DeliveryState, EnqueueRequest, ListDeliveriesRequest, delivery_service_client::DeliveryServiceClient,
    notify_internal_service_client::NotifyInternalServiceClient,
};
use service_kit::{Caller, CallerKind, assertion::AssertionKey, secrets, upstream::SignAs};
use smtp::{SmtpServer, counts_by_message_id};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

const SECRET: &str = "process-test-assertion-secret-0123456789";
const CONCURRENCY: usize = 4;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where the processes keep their data.
#[derive(Clone)]
enum Db {
    Sqlite,
    Postgres { url: String, prefix: String },
}

impl Db {
    fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var("PORTAL_TEST_DATABASE_URL") else {
            eprintln!("skipped: set PORTAL_TEST_DATABASE_URL to run on PostgreSQL");
            return None;
        };
        let prefix = format!("p{}_", secrets::random_token(6).to_lowercase().replace(['-', '_'], "x"));
        Some(Self::Postgres { url, prefix })
    }

    async fn drop_schema(&self) {
        if let Self::Postgres { url, prefix } = self {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            if let Ok(mut connection) = sqlx::AnyConnection::connect(url).await {
                let drop = format!("DROP SCHEMA IF EXISTS \"{prefix}notify\" CASCADE");
                let _ = connection.execute(sqlx::AssertSqlSafe(drop)).await;
            }
        }
    }
}

/// One notify-svc process; SIGKILLed when dropped.
struct NotifyProcess {
    child: Child,
    port: u16,
}

type Signed = InterceptedService<Channel, SignAs>;

impl NotifyProcess {
    async fn start(data_dir: &Path, db: &Db, smtp_port: u16) -> Self {
        Self::start_with(data_dir, db, smtp_port, &[]).await
    }

    /// Starts one with `settings` (`PORTAL__…` variables) over the test's own.
    async fn start_with(data_dir: &Path, db: &Db, smtp_port: u16, settings: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_notify-svc"));
        command
            .current_dir(data_dir)
            .env("PORTAL__LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTAL__DATA_DIR", data_dir)
            .env("PORTAL__ASSERTION__SECRET", SECRET)
            .env("PORTAL__LOG__FILTER", "warn")
            .env("PORTAL__DATABASE__MAX_CONNECTIONS", "8")
            .env("PORTAL__MAIL__DELIVERY", "smtp")
            .env("PORTAL__MAIL__SMTP_HOST", "127.0.0.1")
            .env("PORTAL__MAIL__SMTP_PORT", smtp_port.to_string())
            .env("PORTAL__MAIL__SMTP_TIMEOUT_MS", "1000")
            .env("PORTAL__MAIL__LEASE_SECONDS", "10")
            .env("PORTAL__MAIL__RETRY_INITIAL_SECONDS", "1")
            .env("PORTAL__MAIL__RETRY_MAX_SECONDS", "2")
            .env("PORTAL__MAIL__POLL_INTERVAL_MS", "100")
            .env("PORTAL__MAIL__BATCH_SIZE", "16")
            .env("PORTAL__MAIL__CONCURRENCY", CONCURRENCY.to_string())
            .env("PORTAL__MAIL__FROM_ADDRESS", "portal@portal.test")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null());
        if let Db::Postgres { url, prefix } = db {
            command.env("PORTAL__DATABASE__URL", url).env("PORTAL__DATABASE__SCHEMA_PREFIX", prefix);
        }
        command.envs(settings.iter().copied());
        let child = command.spawn().expect("the notify-svc binary starts");
        let process = Self { child, port };
        let mut health = HealthClient::new(process.channel());
        for _ in 0..400 {
            let check = health.check(HealthCheckRequest { service: "portal.notify.v1.DeliveryService".into() }).await;
            if check.is_ok_and(|a| a.into_inner().status() == ServingStatus::Serving) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("notify-svc did not become SERVING within 20 s");
    }

    fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.port)).unwrap().connect_lazy()
    }

    fn internal(&self) -> NotifyInternalServiceClient<Signed> {
        NotifyInternalServiceClient::with_interceptor(
            self.channel(),
            SignAs::new(AssertionKey::new(SECRET.as_bytes(), 60_000), Caller::service("test")),
        )
    }

    /// SIGTERM, then the exit status once it has stopped.
    async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(signalled.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "notify-svc did not stop within 30 s of SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, no drain.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How many deliveries are in `state`, through DeliveryService as the administrator.
    async fn count(&self, state: DeliveryState) -> usize {
        let admin = Caller {
            kind: CallerKind::Employee,
            user_id: "test-admin".into(),
            system_administrator: true,
            ..Caller::anonymous()
        };
        let mut client = DeliveryServiceClient::with_interceptor(
            self.channel(),
            SignAs::new(AssertionKey::new(SECRET.as_bytes(), 60_000), admin),
        );
        let (mut total, mut token) = (0, String::new());
        for _ in 0..100 {
            let page = client
                .list_deliveries(ListDeliveriesRequest {
                    page_size: 500,
                    page_token: token.clone(),
                    state: state as i32,
                    ..Default::default()
                })
                .await
                .expect("ListDeliveries")
                .into_inner();
            total += page.deliveries.len();
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
        }
        total
    }
}

impl Drop for NotifyProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Enqueues `count` messages through `process`, several calls at a time.
async fn enqueue_many(process: &NotifyProcess, run: &str, count: usize) {
    let mut tasks = Vec::new();
    for lane in 0..4 {
        let mut client = process.internal();
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            for n in (lane..count).step_by(4) {
                let request = EnqueueRequest {
                    idempotency_key: format!("test:{run}:{n}"),
                    recipient_email: format!("user{n}@example.com"),
                    recipient_name: format!("User {n}"),
                    culture: if n % 2 == 0 { "de-DE".into() } else { "en-US".into() },
                    template_code: "Link for password recovery".into(),
                    macro_values: HashMap::from([(
                        "RecoveryLinkUrl".to_owned(),
                        format!("https://portal.example.com/recover?token={n}"),
                    )]),
                };
                client.enqueue(request).await.unwrap_or_else(|s| panic!("enqueue {n}: {s:?}"));
            }
        }));
    }
    for task in tasks {
        task.await.expect("enqueue task");
    }
}

/// Waits (bounded) until `count` distinct messages arrived.
async fn wait_distinct(smtp: &SmtpServer, count: usize, within: Duration) -> usize {
    let start = Instant::now();
    loop {
        let distinct = counts_by_message_id(&smtp.received()).len();
        if distinct >= count || start.elapsed() > within {
            return distinct;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (bounded) until `count` deliveries are DELIVERED.
async fn wait_delivered(process: &NotifyProcess, count: usize) -> usize {
    let start = Instant::now();
    loop {
        let delivered = process.count(DeliveryState::Delivered).await;
        if delivered >= count || start.elapsed() > Duration::from_secs(30) {
            return delivered;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn sigkill_mid_drain(db: Db, label: &str) {
    const TOTAL: usize = 1000;
    let data = tempfile::tempdir().unwrap();
    let smtp_dir = tempfile::tempdir().unwrap();
    // 30 ms per accepted message keeps sends in flight when the kill comes.
    let smtp = SmtpServer::start(smtp_dir.path(), 0, 30);
    let mut first = NotifyProcess::start(data.path(), &db, smtp.port).await;
    enqueue_many(&first, "kill", TOTAL).await;
    let enqueued_at = smtp.received().len();
    // Let the drain run a little more, then kill it mid-way.
    let target = (enqueued_at + 40).min(TOTAL - 200);
    smtp.wait_for(target, Duration::from_secs(60)).await;
    first.kill();
    let killed_at = now_ms();
    let before_kill = smtp.received().len();
    assert!(before_kill < TOTAL, "the drain finished before the kill; the test proves nothing");

    let second = NotifyProcess::start(data.path(), &db, smtp.port).await;
    let distinct = wait_distinct(&smtp, TOTAL, Duration::from_secs(180)).await;
    assert_eq!(distinct, TOTAL, "every message arrived after the restart");
    // Everything ends delivered (none dead-lettered: the server accepts everything).
    assert_eq!(wait_delivered(&second, TOTAL).await, TOTAL);
    let received = smtp.received();
    let counts = counts_by_message_id(&received);
    let duplicates: Vec<&String> = counts.iter().filter(|(_, n)| **n > 1).map(|(id, _)| id).collect();
    println!(
        "SIGKILL mid-drain ({label}): {TOTAL} messages; {before_kill} accepted by the server before the kill; \
         {} received in all; {} duplicates {:?}",
        received.len(),
        duplicates.len(),
        duplicates
    );
    // A duplicate is a message the killed process had already handed over: the server
    // received it before the kill, or processed bytes sent before the kill moments
    // after it (the server lags its socket by its own scheduling).
    for id in &duplicates {
        let first_copy = received.iter().find(|m| &&m.message_id == id).unwrap();
        let lag = first_copy.received_at_ms - killed_at;
        println!("  duplicate {id}: first accepted {lag} ms after the kill (negative: before)");
        assert!(lag <= 2_000, "{id} was sent twice although the server had not received it at the kill");
    }
    assert!(duplicates.len() <= CONCURRENCY, "at most the sends in flight at the kill repeat");
    drop(second);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_drain_then_restart_loses_nothing_sqlite() {
    sigkill_mid_drain(Db::Sqlite, "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_drain_then_restart_loses_nothing_postgres() {
    if let Some(db) = Db::postgres() {
        sigkill_mid_drain(db, "PostgreSQL").await;
    }
}

/// SIGTERM while messages are being sent (a slow server: each send takes 300 ms, so
/// sends are in progress and most of the queue is claimed), then a restart. The lease
/// stays at its 300 s default: anything the stopped process kept claimed would not
/// arrive within the test's bound.
async fn sigterm_mid_delivery(db: Db, label: &str) {
    const TOTAL: usize = 40;
    let data = tempfile::tempdir().unwrap();
    let smtp_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(smtp_dir.path(), 0, 300);
    let default_lease = [("PORTAL__MAIL__LEASE_SECONDS", "300")];
    let mut first = NotifyProcess::start_with(data.path(), &db, smtp.port, &default_lease).await;
    enqueue_many(&first, "term", TOTAL).await;
    smtp.wait_for(CONCURRENCY + 1, Duration::from_secs(30)).await;
    let status = first.terminate().await;
    assert!(status.success(), "SIGTERM ends notify-svc cleanly: {status:?}");
    let before_restart = smtp.received().len();
    assert!(before_restart < TOTAL, "the queue was drained before SIGTERM; the test proves nothing");

    let second = NotifyProcess::start_with(data.path(), &db, smtp.port, &default_lease).await;
    let distinct = wait_distinct(&smtp, TOTAL, Duration::from_secs(60)).await;
    assert_eq!(distinct, TOTAL, "every message arrived after the restart, none waiting out the lease");
    assert_eq!(wait_delivered(&second, TOTAL).await, TOTAL);
    let received = smtp.received();
    println!(
        "SIGTERM mid-delivery ({label}): {TOTAL} messages; {before_restart} accepted before the restart; {} received in all",
        received.len()
    );
    assert_eq!(received.len(), TOTAL, "no message was sent twice");
    drop(second);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_delivery_then_restart_sends_each_once_sqlite() {
    sigterm_mid_delivery(Db::Sqlite, "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_delivery_then_restart_sends_each_once_postgres() {
    if let Some(db) = Db::postgres() {
        sigterm_mid_delivery(db, "PostgreSQL").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_queue_send_nothing_twice() {
    const TOTAL: usize = 600;
    let Some(db) = Db::postgres() else { return };
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let smtp_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(smtp_dir.path(), 0, 5);
    let a = NotifyProcess::start(data_a.path(), &db, smtp.port).await;
    let b = NotifyProcess::start(data_b.path(), &db, smtp.port).await;
    tokio::join!(enqueue_many(&a, "a", TOTAL / 2), enqueue_many(&b, "b", TOTAL / 2));
    let distinct = wait_distinct(&smtp, TOTAL, Duration::from_secs(120)).await;
    assert_eq!(distinct, TOTAL);
    assert_eq!(wait_delivered(&a, TOTAL).await, TOTAL);
    let received = smtp.received();
    let counts = counts_by_message_id(&received);
    let duplicates = counts.values().filter(|n| **n > 1).count();
    println!("two replicas: {TOTAL} messages, {} received, {duplicates} duplicates", received.len());
    assert_eq!(duplicates, 0, "no message was sent twice");
    assert_eq!(received.len(), TOTAL);
    drop((a, b));
    db.drop_schema().await;
}
