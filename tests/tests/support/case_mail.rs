//! A suite that delivers its email to a real SMTP server on loopback, with a manual
//! clock starting Monday 2026-11-23 09:00 UTC, for the case email tests.

#![allow(dead_code)]

use std::time::Duration;

use portal_tests::{Backend, Mode, Suite, smtp::SmtpServer};
use service_kit::{
    clock::Clock,
    config::{MailDelivery, PortalConfig},
};

/// How long a test waits for an email to arrive.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct MailSuite {
    pub suite: Suite,
    pub smtp: SmtpServer,
    _smtp_dir: tempfile::TempDir,
}

fn mail_to(config: &mut PortalConfig, smtp_port: u16) {
    config.mail.delivery = MailDelivery::Smtp;
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = smtp_port;
    config.mail.smtp_timeout_ms = 2_000;
    config.mail.retry_initial_seconds = 1;
    config.mail.retry_max_seconds = 2;
    config.mail.poll_interval_ms = 100;
    config.mail.from_address = "portal-sender@portal.test".into();
}

impl MailSuite {
    pub async fn start(mode: Mode, backend: Backend) -> Option<Self> {
        let smtp_dir = tempfile::tempdir().expect("temporary folder");
        let smtp = SmtpServer::start(smtp_dir.path(), 0, 0);
        let port = smtp.port;
        // Monday 2026-11-23 09:00 UTC.
        let clock = Clock::manual(super::support_case::utc(2026, 11, 23, 9, 0) * 1000);
        let suite = Suite::start_with(mode, backend, clock, |c| mail_to(c, port)).await?;
        Some(Self { suite, smtp, _smtp_dir: smtp_dir })
    }
}
