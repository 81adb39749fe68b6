//! Redis stopped during checks: access answers from the database, never turns the
//! outage into "allow", applies changes made meanwhile at once, and caches again once
//! Redis is back (issue 5 "Must show"; DESIGN.md §4 "Cache"). Each suite gets its own
//! Redis server on a spare loopback port, which the test stops and restarts.

#[path = "support/access.rs"]
mod support_access;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use portal_proto::{
    access::{
        DeleteObjectOperationGrantRequest, Effect, ObjectOperation,
        object_operation_grant_service_client::ObjectOperationGrantServiceClient,
    },
    identity::AccountType,
};
use portal_tests::{Backend, Mode, Suite, authed, fixtures, suite_variants};
use support_access::{check, grant, user};

/// A throwaway Redis server (no persistence) on a spare loopback port.
struct LocalRedis {
    port: u16,
    child: Option<Child>,
}

impl LocalRedis {
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut redis = Self { port, child: None };
        redis.restart().then_some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli").args(["-p", &self.port.to_string()]).args(args).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Starts the server (empty) and waits until it answers.
    fn restart(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("skipped: redis-server is not installed");
            return false;
        };
        self.child = Some(child);
        for _ in 0..100 {
            if self.cli(&["ping"]).as_deref() == Some("PONG") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Kills the server and waits until it is gone.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// How many access cache entries and counters Redis holds.
    fn access_keys(&self) -> usize {
        self.cli(&["--scan", "--pattern", "portal:access*"]).map_or(0, |out| out.lines().count())
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn start(mode: Mode, backend: Backend) -> Option<(Suite, LocalRedis)> {
    let redis = LocalRedis::start()?;
    let url = redis.url();
    let suite = Suite::start_with(mode, backend, service_kit::clock::Clock::system(), move |config| {
        config.cache.redis_url = url;
        config.cache.redis_timeout_ms = 100;
    })
    .await?;
    Some((suite, redis))
}

suite_variants!(
    start: |mode, backend| start(mode, backend);
    threads: 2;
    checks_stay_correct_while_redis_is_down_and_cache_again_after,
);

const KB: &str = "KnowledgeBase";

async fn checks_stay_correct_while_redis_is_down_and_cache_again_after((suite, mut redis): (Suite, LocalRedis)) {
    let admin = suite.admin_token().await;
    let organization = fixtures::organization(&suite, &admin, "Tailspin", AccountType::Customer).await;
    let (alice, _) = fixtures::member(&suite, &admin, &organization.id, "alice@tailspin.test", false).await;
    let mut grants = ObjectOperationGrantServiceClient::new(suite.channel());
    let update = || check(&suite, &admin, &alice.id, KB, ObjectOperation::Update, None, &[]);

    let granted = grant(&suite, &admin, KB, user(&alice.id), ObjectOperation::Update, Effect::Allow).await;
    for _ in 0..3 {
        assert!(update().await.allowed);
    }
    assert!(redis.access_keys() > 0, "decisions are cached in Redis while it is up");

    redis.stop();
    for _ in 0..3 {
        assert!(update().await.allowed, "answered from the database while Redis is down");
    }
    grants
        .delete_object_operation_grant(authed(
            DeleteObjectOperationGrantRequest { id: granted.id, etag: granted.etag },
            &admin,
        ))
        .await
        .unwrap();
    for round in 0..20 {
        assert!(!update().await.allowed, "round {round}: revoked while Redis is down, yet allowed");
    }
    let granted = grant(&suite, &admin, KB, user(&alice.id), ObjectOperation::Update, Effect::Allow).await;
    assert!(update().await.allowed, "granted again while Redis is down");

    assert!(redis.restart(), "Redis restarts");
    for _ in 0..5 {
        assert!(update().await.allowed);
    }
    assert!(redis.access_keys() > 0, "caching resumes once Redis is back");
    grants
        .delete_object_operation_grant(authed(
            DeleteObjectOperationGrantRequest { id: granted.id, etag: granted.etag },
            &admin,
        ))
        .await
        .unwrap();
    for round in 0..20 {
        assert!(!update().await.allowed, "round {round}: revoked after Redis came back, yet allowed");
    }
}
