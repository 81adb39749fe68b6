//! A suite that delivers its email to a real SMTP server on loopback, with a manual
//! clock starting Monday 2026-11-23 09:00 UTC, for the case email tests.

#![allow(dead_code)]

use std::time::Duration;

use portal_tests::{Backend, Mode, Suite, smtp::SmtpServer};
use service_kit::clock::Clock;

/// How long a test waits for an email to arrive.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct MailSuite {
    pub suite: Suite,
    pub smtp: SmtpServer,
    _smtp_dir: tempfile::TempDir,
}

impl MailSuite {
    pub async fn start(mode: Mode, backend: Backend) -> Option<Self> {
        let smtp_dir = tempfile::tempdir().expect("temporary folder");
        let smtp = SmtpServer::start(smtp_dir.path(), 0, 0);
        // Monday 2026-11-23 09:00 UTC.
        let clock = Clock::manual(super::support_case::utc(2026, 11, 23, 9, 0) * 1000);
        let suite =
            Suite::start_with(mode, backend, clock, |c| smtp.deliver_here(&mut c.mail, "portal-sender@portal.test"))
                .await?;
        Some(Self { suite, smtp, _smtp_dir: smtp_dir })
    }
}
