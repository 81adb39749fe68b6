//! What the emailed-link tests share (invitations, registration, recovery): a suite whose
//! mail goes to a real SMTP server on loopback, with the mailbox and public base URL
//! set, and helpers to read the links out of the emails received.

#![allow(dead_code)]

use std::time::Duration;

use portal_proto::identity::{
    CreateUserRequest, GetSettingsRequest, Settings, UpdateSettingsRequest, User, UserKind, WhoAmIRequest,
    session_service_client::SessionServiceClient, settings_service_client::SettingsServiceClient,
    user_service_client::UserServiceClient,
};
use portal_tests::{
    Backend, Mode, Suite, authed,
    smtp::{Received, SmtpServer},
};
use service_kit::{clock::Clock, config::LicenceProductConfig};
use tonic::{Code, Status};

/// The public base URL every link must be built from.
pub const BASE: &str = "https://portal.example.com";
/// The sender mailbox (SSPRegistrationMailbox).
pub const MAILBOX: &str = "portal-mailbox@portal.test";
/// A product with one seat, for the "no free seat" cases.
pub const ONE_SEAT: &str = "one-seat-portal";
/// A product with plenty of seats.
pub const PRODUCT: &str = "customer-portal-on-site";
pub const PASSWORD: &str = "a long enough user password";

/// A suite whose mail goes to its own SMTP server.
pub struct LinkSuite {
    pub suite: Suite,
    pub smtp: SmtpServer,
    _smtp_dir: tempfile::TempDir,
}

/// Runs each named `async fn(LinkSuite)` in the four suite variants, on `$clock`.
#[macro_export]
macro_rules! link_tests {
    (clock: $clock:expr; $($name:ident),* $(,)?) => {
        portal_tests::suite_variants!(
            start: |mode, backend| super::support::links::LinkSuite::start(mode, backend, $clock);
            threads: 4;
            $($name),*
        );
    };
}

pub use portal_tests::error_reason as reason;

/// The (code, reason) of a refusal, for one-line assertions.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String) {
    let status = result.expect_err("the call is refused");
    (status.code(), reason(&status))
}

impl LinkSuite {
    pub async fn start(mode: Mode, backend: Backend, clock: Clock) -> Option<Self> {
        let smtp_dir = tempfile::tempdir().expect("temporary folder");
        let smtp = SmtpServer::start(smtp_dir.path(), 0, 0);
        let suite = Suite::start_with(mode, backend, clock, |config| {
            smtp.deliver_here(&mut config.mail, "fallback-sender@portal.test");
            config.licences.push(LicenceProductConfig {
                id: ONE_SEAT.into(),
                display_name: "One-seat portal".into(),
                edition: "self_service".into(),
                deployment: "cloud".into(),
                seats: 1,
            });
        })
        .await?;
        let this = Self { suite, smtp, _smtp_dir: smtp_dir };
        this.settings(
            Settings { ssp_registration_mailbox: MAILBOX.into(), public_base_url: BASE.into(), ..Default::default() },
            &["ssp_registration_mailbox", "public_base_url"],
        )
        .await;
        Some(this)
    }

    pub async fn admin(&self) -> String {
        self.suite.admin_token().await
    }

    /// Changes the settings named in `paths` to their values in `values`.
    pub async fn settings(&self, values: Settings, paths: &[&str]) -> Settings {
        let admin = self.admin().await;
        let mut client = SettingsServiceClient::new(self.suite.channel());
        let current = client.get_settings(authed(GetSettingsRequest {}, &admin)).await.unwrap().into_inner();
        let request = UpdateSettingsRequest {
            settings: Some(Settings { etag: current.etag, ..values }),
            update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
        };
        client.update_settings(authed(request, &admin)).await.expect("the settings change").into_inner()
    }

    /// Creates an external user holding a seat of `product`, with `password` (or none).
    pub async fn external(&self, email: &str, product: &str, password: &str) -> Result<User, Status> {
        let request = CreateUserRequest {
            user: Some(User { email: email.into(), kind: UserKind::External.into(), ..Default::default() }),
            licence_product_id: product.into(),
            password: password.into(),
            ..Default::default()
        };
        let admin = self.admin().await;
        UserServiceClient::new(self.suite.channel()).create_user(authed(request, &admin)).await.map(|r| r.into_inner())
    }

    /// The mail received so far for `to`.
    pub fn mail_to(&self, to: &str) -> Vec<Received> {
        let to = to.to_lowercase();
        self.smtp.received().into_iter().filter(|m| m.envelope_to.iter().any(|r| r.to_lowercase() == to)).collect()
    }

    /// Waits (bounded) until `count` messages for `to` arrived, and returns them.
    pub async fn wait_mail_to(&self, to: &str, count: usize) -> Vec<Received> {
        let start = std::time::Instant::now();
        loop {
            let received = self.mail_to(to);
            if received.len() >= count {
                return received;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{count} email(s) to {to} never arrived: {received:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The token of the `n`th (from 1) link to `page` sent to `to`, after checking the link
    /// is built on the configured base URL.
    pub async fn token(&self, to: &str, page: &str, n: usize) -> String {
        let mail = self.wait_mail_to(to, n).await;
        token_in(&mail[n - 1], page)
    }

    /// Whether a session token still works.
    pub async fn session_works(&self, token: &str) -> bool {
        let mut sessions = SessionServiceClient::new(self.suite.channel());
        match sessions.who_am_i(authed(WhoAmIRequest {}, token)).await {
            Ok(_) => true,
            Err(status) if status.code() == Code::Unauthenticated => false,
            Err(status) => panic!("WhoAmI failed: {status:?}"),
        }
    }
}

/// The token of the link to `{BASE}/{page}?token=…` in an email; panics when the email
/// carries no such link (a link on any other base fails here).
pub fn token_in(mail: &Received, page: &str) -> String {
    let prefix = format!("{BASE}/{page}?token=");
    let body = format!("{}\n{}", mail.text, mail.html);
    let start = body.find(&prefix).unwrap_or_else(|| panic!("no {prefix} link in {body}")) + prefix.len();
    body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}
