//! Login storm: how many logins per second the all-in-one suite sustains against the
//! argon2 limit of this machine (cores ÷ one hash's time), and what a cheap
//! authenticated call (WhoAmI) costs before and during the storm.
//!
//! `cargo run --release -p portal-tests --bin login-storm -- [SECONDS] [CONCURRENCY]`
//! (defaults 10 s and 16 clients). Traffic stays on 127.0.0.1 and stops by itself. Each
//! login names a client address of its own through the trusted-proxy header, as a storm
//! of real users does: from one address, brute-force protection would let only the
//! threshold's worth of one account's logins run at once.

use std::time::{Duration, Instant};

use identity_svc::domain::password::PasswordHasher;
use portal_proto::identity::{WhoAmIRequest, session_service_client::SessionServiceClient};
use portal_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Mode, Suite, authed, forwarded_login, trust_the_loopback_proxy,
};
use service_kit::clock::Clock;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    )
}

/// WhoAmI latencies, one call at a time, until `until`.
async fn probe(suite_channel: tonic::transport::Channel, token: String, until: Instant) -> Vec<Duration> {
    let mut sessions = SessionServiceClient::new(suite_channel);
    let mut samples = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await.expect("whoami");
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10).clamp(1, 120);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16).clamp(1, 256);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    // One hash's time, through the same hasher (and its semaphore) the service uses.
    let hasher = PasswordHasher::default();
    let phc = hasher.hash(ADMIN_PASSWORD).await.expect("hash");
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        hasher.verify(ADMIN_PASSWORD, Some(&phc)).await.expect("verify");
    }
    let hash_time = started.elapsed() / rounds;
    let limit = cores as f64 / hash_time.as_secs_f64();

    let suite = Suite::start_with(Mode::AllInOne, Backend::Sqlite, Clock::system(), trust_the_loopback_proxy)
        .await
        .expect("suite");
    let token = suite.admin_token().await;
    let baseline = probe(suite.channel(), token.clone(), Instant::now() + Duration::from_secs(3)).await;

    let until = Instant::now() + Duration::from_secs(seconds);
    let storm: Vec<_> = (0..concurrency)
        .map(|client| {
            let mut sessions = SessionServiceClient::new(suite.channel());
            tokio::spawn(async move {
                let mut logins = 0u64;
                while Instant::now() < until {
                    let address = format!("198.18.{client}.{}", logins % 256);
                    sessions.login(forwarded_login(ADMIN_EMAIL, ADMIN_PASSWORD, &address)).await.expect("login");
                    logins += 1;
                }
                logins
            })
        })
        .collect();
    let during = tokio::spawn(probe(suite.channel(), token, until));
    let started = Instant::now();
    let mut logins = 0;
    for client in storm {
        logins += client.await.expect("client");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let during = during.await.expect("probe");
    let rate = logins as f64 / elapsed;

    println!("cores: {cores}; one argon2id verification (m=19 MiB, t=2, p=1): {:.1} ms", hash_time.as_secs_f64() * 1e3);
    println!("argon2 limit (cores / hash time): {limit:.1} logins/s");
    println!(
        "login storm: {concurrency} clients for {seconds} s: {logins} logins, {rate:.1} logins/s = {:.0}% of the limit",
        rate / limit * 100.0
    );
    println!("WhoAmI before the storm: {}", summary(baseline));
    println!("WhoAmI during the storm: {}", summary(during));
}
