//! case-svc replicas as operators run them, on one PostgreSQL database: the SLA worker
//! is active in one replica at a time (it holds the worker lock; the others wait), and
//! when the active one is killed (SIGKILL) or stopped (SIGTERM) another takes over
//! within seconds. Needs PORTAL_TEST_DATABASE_URL (reports a skip without).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use case_svc::sla_events::WORKER_LOCK_KEY;
use service_kit::{exclusive::RETRY, secrets};
use sqlx::{AnyConnection, Connection};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One case-svc process; SIGKILLed when dropped.
struct Replica(Child);

impl Replica {
    fn start(data_dir: &std::path::Path, url: &str, prefix: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_case-svc"))
            .current_dir(data_dir)
            .env("PORTAL__LISTEN", format!("127.0.0.1:{}", free_port()))
            .env("PORTAL__DATA_DIR", data_dir)
            .env("PORTAL__ASSERTION__SECRET", "sla-worker-test-assertion-secret-0123456789")
            .env("PORTAL__UPSTREAMS__IDENTITY", "http://127.0.0.1:9")
            .env("PORTAL__UPSTREAMS__ACCESS", "http://127.0.0.1:9")
            .env("PORTAL__DATABASE__URL", url)
            .env("PORTAL__DATABASE__SCHEMA_PREFIX", prefix)
            .env("PORTAL__DATABASE__MAX_CONNECTIONS", "4")
            .env("PORTAL__LOG__FILTER", "warn")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .spawn()
            .expect("the case-svc binary starts");
        Self(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    async fn terminate(&mut self) -> std::process::ExitStatus {
        let signalled = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().unwrap();
        assert!(signalled.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "case-svc did not stop within 30 s of SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The database sessions (backend pids) holding the SLA worker lock of `schema`.
async fn holders(db: &mut AnyConnection, schema: &str) -> Vec<i32> {
    let sql = format!(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND classid = hashtext($1)::oid AND objid = {WORKER_LOCK_KEY} AND objsubid = 2"
    );
    let rows: Vec<(i32,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(schema).fetch_all(db).await.unwrap();
    rows.into_iter().map(|(pid,)| pid).collect()
}

/// Waits (bounded by `within`) until exactly one session other than `previous` holds
/// the lock; that session and how long it took.
async fn new_holder_within(
    db: &mut AnyConnection,
    schema: &str,
    previous: Option<i32>,
    within: Duration,
) -> (i32, Duration) {
    let start = Instant::now();
    loop {
        let holders = holders(db, schema).await;
        assert!(holders.len() <= 1, "{} replicas hold the SLA worker lock at once", holders.len());
        if let [holder] = holders[..]
            && Some(holder) != previous
        {
            return (holder, start.elapsed());
        }
        assert!(start.elapsed() < within, "no replica took the SLA worker over within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// For `period`, `holder` and no one else holds the lock at every look.
async fn stays_held_by(db: &mut AnyConnection, schema: &str, holder: i32, period: Duration) {
    let start = Instant::now();
    while start.elapsed() < period {
        assert_eq!(holders(db, schema).await, [holder], "exactly one replica, the same, runs the SLA worker");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sla_worker_among_replicas_and_takeover_within_seconds() {
    let Ok(url) = std::env::var("PORTAL_TEST_DATABASE_URL") else {
        eprintln!("skipped: set PORTAL_TEST_DATABASE_URL to run on PostgreSQL");
        return;
    };
    sqlx::any::install_default_drivers();
    let prefix = format!("s{}_", secrets::random_token(6).to_lowercase().replace(['-', '_'], "x"));
    let schema = format!("{prefix}case");
    let mut db = AnyConnection::connect(&url).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    // Starting (migrations included) takes a while on a busy machine; a takeover is bounded by RETRY.
    let start_bound = Duration::from_secs(60);
    let takeover_bound = RETRY + Duration::from_secs(3);

    // The first replica alone: it takes the worker.
    let mut a = Replica::start(data.path(), &url, &prefix);
    let (first, _) = new_holder_within(&mut db, &schema, None, start_bound).await;
    // A second replica starts and waits: still one worker, the first's.
    let mut b = Replica::start(data.path(), &url, &prefix);
    stays_held_by(&mut db, &schema, first, RETRY * 3).await;

    // SIGKILL of the active replica: its session ends, the second takes over.
    a.kill();
    let (second, took) = new_holder_within(&mut db, &schema, Some(first), takeover_bound).await;
    println!("takeover after SIGKILL: {took:?}");
    let mut c = Replica::start(data.path(), &url, &prefix);
    stays_held_by(&mut db, &schema, second, RETRY * 3).await;

    // SIGTERM of the active one (now the second): it ends cleanly and the third takes over.
    let status = b.terminate().await;
    assert!(status.success(), "SIGTERM ends case-svc cleanly: {status:?}");
    let (third, took) = new_holder_within(&mut db, &schema, Some(second), takeover_bound).await;
    println!("takeover after SIGTERM: {took:?}");
    stays_held_by(&mut db, &schema, third, RETRY * 2).await;

    c.kill();
    let drop_schema = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    let _ = sqlx::Executor::execute(&mut db, sqlx::AssertSqlSafe(drop_schema)).await;
}
