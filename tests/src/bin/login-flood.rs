//! Login flood: the memory a login flood leaves behind (issue 13, DESIGN.md §10 budgets).
//!
//! 1. identity-svc as its own process, called directly with signed caller assertions:
//!    RSS before and after LOGINS logins from CONCURRENCY clients, half of them for
//!    unknown emails, each from its own client address (as a distributed flood is, so
//!    brute-force protection lets every one be verified); budget ≤ 150 MiB.
//! 2. The all-in-one process after `--demo` and 20 logins, idle; budget ≤ 60 MiB.
//!
//! Memory is read from `/proc/<pid>/status` (VmRSS now, VmHWM the peak). The processes are
//! the release binaries next to this one:
//!
//! `cargo build --release -p gateway -p identity-svc -p portal-tests --bin login-flood`
//! `target/release/login-flood [LOGINS] [CONCURRENCY]` (defaults 1,000 and 32).

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use portal_proto::identity::{LoginRequest, session_service_client::SessionServiceClient};
use portal_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Suite};
use service_kit::{Caller, assertion::AssertionKey, secrets};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    sync::mpsc,
};
use tonic::{Code, Request, transport::Channel};

/// A release binary built next to this tool.
fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("this tool's path");
    exe.parent().expect("a folder").join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// (VmRSS, VmHWM) of `pid`, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts `binary` with the configuration in `env` (PORTAL__…), data in a fresh folder.
fn start(binary: &str, args: &[&str], env: &[(&str, String)], data: &tempfile::TempDir) -> Child {
    let mut command = Command::new(sibling(binary));
    command
        .args(args)
        .env("PORTAL__DATA_DIR", data.path())
        .env("PORTAL__LOG__FILTER", "warn")
        .env("PORTAL__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL)
        .env("PORTAL__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    command.spawn().unwrap_or_else(|e| panic!("cannot start {binary} (build it in release first): {e}"))
}

/// Reads the child's output and error to their end (so it never blocks on a full pipe),
/// passing the lines on.
fn lines_of(child: &mut Child) -> mpsc::UnboundedReceiver<String> {
    fn forward(stream: impl AsyncRead + Unpin + Send + 'static, sender: mpsc::UnboundedSender<String>) {
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = sender.send(line);
            }
        });
    }
    let (sender, receiver) = mpsc::unbounded_channel();
    if let Some(stdout) = child.stdout.take() {
        forward(stdout, sender.clone());
    }
    if let Some(stderr) = child.stderr.take() {
        forward(stderr, sender);
    }
    receiver
}

/// A login, signed as the gateway would sign it for a client at `client_address` (when a key is given).
fn login(email: &str, key: Option<&AssertionKey>, client_address: String) -> Request<LoginRequest> {
    let mut request = Request::new(LoginRequest { email: email.into(), password: ADMIN_PASSWORD.into() });
    if let Some(key) = key {
        key.attach(&Caller { client_address, ..Caller::anonymous() }, &mut request);
    }
    request
}

/// Logs in until it works (the process is starting), for at most a minute.
async fn wait_for_login(channel: Channel, key: Option<&AssertionKey>) {
    let mut sessions = SessionServiceClient::new(channel);
    for _ in 0..600 {
        if sessions.login(login(ADMIN_EMAIL, key, "192.0.2.1".into())).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the process did not serve a login within a minute");
}

async fn identity_flood(logins: usize, concurrency: usize) {
    let data = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let secret = secrets::random_token(32);
    let mut child = start(
        "identity-svc",
        &[],
        &[("PORTAL__LISTEN", format!("127.0.0.1:{port}")), ("PORTAL__ASSERTION__SECRET", secret.clone())],
        &data,
    );
    let pid = child.id().expect("a running process");
    let _output = lines_of(&mut child);
    let channel = Suite::channel_to(([127, 0, 0, 1], port).into());
    let key = Arc::new(AssertionKey::new(secret.as_bytes(), 60_000));
    wait_for_login(channel.clone(), Some(&key)).await;
    let (before, _) = memory(pid);

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, key) = (next.clone(), key.clone());
            let mut sessions = SessionServiceClient::new(channel.clone());
            tokio::spawn(async move {
                let mut answers = [0usize; 2];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= logins {
                        return answers;
                    }
                    let email = if i % 2 == 0 { format!("nobody{i}@example.com") } else { ADMIN_EMAIL.to_owned() };
                    let address = format!("198.18.{}.{}", i / 256, i % 256);
                    match sessions.login(login(&email, Some(&key), address)).await {
                        Ok(_) => answers[0] += 1,
                        Err(status) if status.code() == Code::Unauthenticated => answers[1] += 1,
                        Err(status) => panic!("login {i}: {status:?}"),
                    }
                }
            })
        })
        .collect();
    let mut answers = [0usize; 2];
    for client in clients {
        let [ok, refused] = client.await.expect("a client");
        answers[0] += ok;
        answers[1] += refused;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (after, peak) = memory(pid);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (idle, _) = memory(pid);
    println!(
        "identity-svc: {logins} logins from {concurrency} clients in {elapsed:.1} s ({} logged in, {} unknown email): \
         RSS before {before:.1} MiB, right after {after:.1} MiB, 5 s later {idle:.1} MiB, peak {peak:.1} MiB \
         (budget 150 MiB)",
        answers[0], answers[1]
    );
}

async fn all_in_one_idle() {
    let data = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut child = start("gateway", &["--demo"], &[("PORTAL__LISTEN", format!("127.0.0.1:{port}"))], &data);
    let pid = child.id().expect("a running process");
    // The demo is loaded when the process prints its summary (naming the administrator).
    let mut lines = lines_of(&mut child);
    let loaded = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.recv().await {
            if line.contains("System administrator") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(loaded, Ok(true), "the demo did not load");
    let channel = Suite::channel_to(([127, 0, 0, 1], port).into());
    wait_for_login(channel.clone(), None).await;
    let mut sessions = SessionServiceClient::new(channel);
    for _ in 1..20 {
        sessions.login(login(ADMIN_EMAIL, None, String::new())).await.expect("the administrator logs in");
    }
    let (right_after, peak) = memory(pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (idle, _) = memory(pid);
    println!(
        "all-in-one after --demo and 20 logins: RSS right after {right_after:.1} MiB, idle 10 s later {idle:.1} MiB, \
         peak {peak:.1} MiB (budget 60 MiB)"
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let logins: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000).clamp(1, 100_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32).clamp(1, 256);
    identity_flood(logins, concurrency).await;
    all_in_one_idle().await;
}
