//! Starts `tests/smtp/server.py` (a real aiosmtpd SMTP server on loopback) and reads
//! what it received. Shared by the cross-service tests and notify-svc's process tests
//! (`#[path]`-included, so neither crate depends on the other).

#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// One message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub received_at_ms: i64,
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub text: String,
    pub html: String,
}

/// A running SMTP server; killed when dropped.
pub struct SmtpServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    delay_ms: u64,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate is in the workspace").join("tests/smtp/server.py")
}

impl SmtpServer {
    /// Points an in-process suite's mail at this server, with quick retries (1 s, at most
    /// 2 s) and a 100 ms outbox poll so that tests do not wait long, sending as `from`.
    pub fn deliver_here(&self, mail: &mut service_kit::config::MailConfig, from: &str) {
        mail.delivery = service_kit::config::MailDelivery::Smtp;
        mail.smtp_host = "127.0.0.1".into();
        mail.smtp_port = self.port;
        mail.smtp_timeout_ms = 2_000;
        mail.retry_initial_seconds = 1;
        mail.retry_max_seconds = 2;
        mail.poll_interval_ms = 100;
        mail.from_address = from.into();
    }

    /// Starts a server recording into `dir` on `port` (0: any free port).
    pub fn start(dir: &Path, port: u16, delay_ms: u64) -> Self {
        let mut child = Command::new("python3")
            .arg(script())
            .arg("--dir")
            .arg(dir)
            .arg("--port")
            .arg(port.to_string())
            .arg("--delay-ms")
            .arg(delay_ms.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs tests/smtp/server.py (pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the SMTP server says where it listens");
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start (is aiosmtpd installed?): {line:?}"));
        Self { child: Some(child), port, dir: dir.to_owned(), delay_ms }
    }

    /// Stops the server (connections are then refused).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.stop();
        let again = Self::start(&self.dir, self.port, self.delay_ms);
        *self = again;
    }

    /// From now on, `reject-…` recipients are accepted.
    pub fn accept_rejects(&self) {
        std::fs::write(self.dir.join("accept-rejects"), b"fixed").expect("write the fix file");
    }

    /// Every message received so far, in the order received.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// Waits (at most `timeout`) until at least `count` messages were received.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count || start.elapsed() > timeout {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How many times each Message-ID was received.
pub fn counts_by_message_id(received: &[Received]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in received {
        *counts.entry(message.message_id.clone()).or_default() += 1;
    }
    counts
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
