//! Identity's mail outbox relay: an invitation sent while notify-svc cannot be reached is
//! kept and delivered once notify comes up. Identity and notify run in process on SQLite,
//! notify writing `.eml` files; calls go straight to identity as a system administrator.

use std::{path::Path, time::Duration};

use portal_proto::identity::{
    CreateUserRequest, SendInvitationsRequest, Settings, UpdateSettingsRequest, User, UserKind,
    invitation_service_client::InvitationServiceClient, settings_service_client::SettingsServiceClient,
    user_service_client::UserServiceClient,
};
use service_kit::{
    Caller, CallerKind,
    assertion::AssertionKey,
    clock::Clock,
    config::PortalConfig,
    runner, secrets,
    upstream::{self, SignAs, Upstream},
};
use tonic::service::interceptor::InterceptedService;

type Channel = InterceptedService<Upstream, SignAs>;

fn emails_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_asked_for_while_notify_is_down_is_delivered_once_it_is_up() {
    let data = tempfile::tempdir().unwrap();
    let mut config = PortalConfig { data_dir: data.path().to_owned(), ..Default::default() };
    config.assertion.secret = secrets::random_token(32);
    config.bootstrap.admin_password = "admin-password-for-tests-1".into();
    config.mail.poll_interval_ms = 100;
    let context = runner::context_from_config(config.clone(), Clock::system()).unwrap();
    assert!(context.upstreams.get("notify").is_none(), "notify is not reachable yet");
    let identity = identity_svc::start(context.clone()).await.expect("identity starts");
    let identity = upstream::local(identity.routes);
    let key = AssertionKey::new(config.assertion.secret.as_bytes(), 60_000);
    let admin = Caller {
        kind: CallerKind::Employee,
        user_id: "relay-test-admin".into(),
        system_administrator: true,
        ..Caller::anonymous()
    };
    let signed = || InterceptedService::new(identity.clone(), SignAs::new(key.clone(), admin.clone())) as Channel;

    let mut settings = SettingsServiceClient::new(signed());
    let request = UpdateSettingsRequest {
        settings: Some(Settings { ssp_registration_mailbox: "portal@example.com".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["ssp_registration_mailbox".into()] }),
    };
    settings.update_settings(request).await.expect("the mailbox is set");
    let request = CreateUserRequest {
        user: Some(User { email: "waiting@example.com".into(), kind: UserKind::External.into(), ..Default::default() }),
        licence_product_id: "customer-portal-on-site".into(),
        ..Default::default()
    };
    let user = UserServiceClient::new(signed()).create_user(request).await.unwrap().into_inner();
    let request = SendInvitationsRequest { user_ids: vec![user.id], request_id: String::new() };
    let sent = InvitationServiceClient::new(signed()).send_invitations(request).await.unwrap().into_inner();
    assert!(sent.results[0].error.is_none(), "sending does not wait for notify: {sent:?}");

    tokio::time::sleep(Duration::from_millis(1500)).await; // a few relay attempts fail meanwhile
    let mail_dir = data.path().join("mail");
    assert!(emails_in(&mail_dir).is_empty());

    let notify = notify_svc::start(context.clone()).await.expect("notify starts");
    context.upstreams.set("identity", identity.clone());
    context.upstreams.set("notify", upstream::local(notify.routes));
    let started = std::time::Instant::now();
    let emails = loop {
        let emails = emails_in(&mail_dir);
        if !emails.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break emails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    context.shutdown.trigger();
    assert_eq!(emails.len(), 1, "the invitation arrived once notify was up");
    assert!(emails[0].contains("waiting@example.com"), "{}", emails[0]);
}
