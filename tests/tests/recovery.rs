//! Password recovery through the gateway (issue 4, DESIGN.md §3 "Password recovery"):
//! the same answer for an existing, an unknown and a deactivated account; the link is
//! built on the configured public base URL whatever the request's `Host` or
//! `X-Forwarded-*` headers say; it is single-use, expires, and using it ends the
//! user's sessions.

mod support {
    pub mod links;
}

use std::time::Duration;

use portal_proto::identity::{
    DeactivateUserRequest, ListAuditEventsRequest, RequestPasswordRecoveryRequest, ResetPasswordRequest,
    ResetPasswordResponse, audit_service_client::AuditServiceClient, password_service_client::PasswordServiceClient,
    user_service_client::UserServiceClient,
};
use portal_tests::authed;
use support::links::{LinkSuite, PASSWORD, PRODUCT, refusal};
use tonic::{Code, Request, Status, metadata::MetadataValue, transport::Channel};

link_tests!(clock: service_kit::clock::Clock::system();
    the_answer_is_the_same_for_existing_unknown_and_deactivated_accounts,
    the_link_is_single_use_and_ends_the_users_sessions,
    a_newer_request_revokes_the_earlier_link,
);
link_tests!(clock: portal_tests::manual_clock(); the_link_expires_after_an_hour, too_many_requests_are_refused_for_a_while);

const NEW_PASSWORD: &str = "a brand new long password";

fn passwords(suite: &LinkSuite) -> PasswordServiceClient<Channel> {
    PasswordServiceClient::new(suite.suite.channel())
}

/// Asks for a recovery link with request headers that name another host.
async fn ask(suite: &LinkSuite, email: &str) -> Result<(), Status> {
    let mut request = Request::new(RequestPasswordRecoveryRequest { email: email.into() });
    for (header, value) in [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "http"),
        ("forwarded", "host=evil.example;proto=http"),
    ] {
        request.metadata_mut().insert(header, MetadataValue::from_static(value));
    }
    passwords(suite).request_password_recovery(request).await.map(|r| assert_eq!(r.into_inner(), Default::default()))
}

async fn reset(suite: &LinkSuite, token: &str, password: &str) -> Result<ResetPasswordResponse, Status> {
    let request = ResetPasswordRequest { token: token.into(), new_password: password.into() };
    passwords(suite).reset_password(request).await.map(|r| r.into_inner())
}

async fn the_answer_is_the_same_for_existing_unknown_and_deactivated_accounts(suite: LinkSuite) {
    suite.external("active@example.com", PRODUCT, PASSWORD).await.unwrap();
    let gone = suite.external("deactivated@example.com", PRODUCT, PASSWORD).await.unwrap();
    let admin = suite.admin().await;
    let request = DeactivateUserRequest { id: gone.id, ..Default::default() };
    UserServiceClient::new(suite.suite.channel()).deactivate_user(authed(request, &admin)).await.unwrap();

    for email in ["active@example.com", "nobody@example.com", "deactivated@example.com"] {
        ask(&suite, email).await.unwrap_or_else(|s| panic!("{email}: {s:?}"));
    }
    let token = suite.token("active@example.com", "recover-password", 1).await; // on the configured base URL
    assert!(token.len() >= 22);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(suite.mail_to("nobody@example.com").is_empty() && suite.mail_to("deactivated@example.com").is_empty());
    assert_eq!(suite.smtp.received().len(), 1, "one email, for the active account only");

    let malformed = ask(&suite, "not an address").await;
    assert_eq!(refusal(malformed), (Code::InvalidArgument, "INVALID_EMAIL".into()));
}

async fn the_link_is_single_use_and_ends_the_users_sessions(suite: LinkSuite) {
    suite.external("ida@example.com", PRODUCT, PASSWORD).await.unwrap();
    let sessions = [
        suite.suite.login("ida@example.com", PASSWORD).await.unwrap(),
        suite.suite.login("ida@example.com", PASSWORD).await.unwrap(),
    ];
    ask(&suite, "IDA@example.com").await.unwrap();
    let token = suite.token("ida@example.com", "recover-password", 1).await;
    let weak = reset(&suite, &token, "short").await;
    assert_eq!(refusal(weak), (Code::InvalidArgument, "PASSWORD_TOO_SHORT".into()));

    let done = reset(&suite, &token, NEW_PASSWORD).await.expect("the refused password did not spend the link");
    assert_eq!(done.email, "ida@example.com");
    for session in &sessions {
        assert!(!suite.session_works(session).await, "every session of the user ended");
    }
    assert_eq!(suite.suite.login("ida@example.com", PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    suite.suite.login("ida@example.com", NEW_PASSWORD).await.expect("the new password works");
    let again = reset(&suite, &token, "yet another long password").await;
    assert_eq!(refusal(again), (Code::FailedPrecondition, "TOKEN_ALREADY_USED".into()));
    assert_eq!(refusal(reset(&suite, "forged-token", NEW_PASSWORD).await), (Code::NotFound, "TOKEN_NOT_FOUND".into()));

    let admin = suite.admin().await;
    let request = ListAuditEventsRequest { action: "user.password_reset".into(), ..Default::default() };
    let events = AuditServiceClient::new(suite.suite.channel())
        .list_audit_events(authed(request, &admin))
        .await
        .unwrap()
        .into_inner()
        .audit_events;
    assert_eq!(events.len(), 1);
    assert!(events[0].after_json.contains("\"ended_sessions\":2"), "{}", events[0].after_json);
    assert!(!events[0].after_json.contains(NEW_PASSWORD));
}

async fn a_newer_request_revokes_the_earlier_link(suite: LinkSuite) {
    suite.external("jo@example.com", PRODUCT, PASSWORD).await.unwrap();
    ask(&suite, "jo@example.com").await.unwrap();
    let first = suite.token("jo@example.com", "recover-password", 1).await;
    ask(&suite, "jo@example.com").await.unwrap();
    let second = suite.token("jo@example.com", "recover-password", 2).await;
    assert_eq!(refusal(reset(&suite, &first, NEW_PASSWORD).await), (Code::FailedPrecondition, "TOKEN_REVOKED".into()));
    reset(&suite, &second, NEW_PASSWORD).await.expect("the newest link works");
}

async fn the_link_expires_after_an_hour(suite: LinkSuite) {
    suite.external("kim@example.com", PRODUCT, PASSWORD).await.unwrap();
    ask(&suite, "kim@example.com").await.unwrap();
    let token = suite.token("kim@example.com", "recover-password", 1).await;
    suite.suite.clock.advance(Duration::from_secs(3600));
    assert_eq!(refusal(reset(&suite, &token, NEW_PASSWORD).await), (Code::FailedPrecondition, "TOKEN_EXPIRED".into()));
    suite.suite.login("kim@example.com", PASSWORD).await.expect("the password is unchanged");
}

async fn too_many_requests_are_refused_for_a_while(suite: LinkSuite) {
    suite.external("lee@example.com", PRODUCT, PASSWORD).await.unwrap();
    for _ in 0..5 {
        ask(&suite, "lee@example.com").await.unwrap();
        ask(&suite, "nobody-here@example.com").await.unwrap();
    }
    for email in ["lee@example.com", "nobody-here@example.com"] {
        let refused = ask(&suite, email).await;
        assert_eq!(refusal(refused), (Code::ResourceExhausted, "TOO_MANY_ATTEMPTS".into()), "the same for {email}");
    }
    for i in 0..50 {
        let unknown = reset(&suite, &format!("guessed-token-{i}"), NEW_PASSWORD).await;
        assert_eq!(refusal(unknown).1, "TOKEN_NOT_FOUND");
    }
    let token = suite.token("lee@example.com", "recover-password", 5).await;
    let guessing = reset(&suite, &token, NEW_PASSWORD).await;
    assert_eq!(
        refusal(guessing),
        (Code::ResourceExhausted, "TOO_MANY_ATTEMPTS".into()),
        "even a real token, for a while"
    );
    suite.suite.clock.advance(Duration::from_secs(59 * 60));
    ask(&suite, "lee@example.com").await.expect("the limits are per hour");
    let newest = suite.token("lee@example.com", "recover-password", 6).await;
    reset(&suite, &newest, NEW_PASSWORD).await.expect("and so is guessing");
}
