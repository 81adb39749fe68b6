//! Passwords, brute-force protection, settings and their audit trail, through the
//! gateway (issues 4 and 13, DESIGN.md §3 "Passwords", "Brute force", "System settings").

use std::time::Duration;

use portal_proto::identity::{
    ChangePasswordRequest, GetSettingsRequest, ListAuditEventsRequest, LoginRequest, Settings, UpdateSettingsRequest,
    WhoAmIRequest, audit_service_client::AuditServiceClient, password_service_client::PasswordServiceClient,
    session_service_client::SessionServiceClient, settings_service_client::SettingsServiceClient,
};
use portal_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Suite, authed, forwarded_login, manual_clock, suite_tests, suite_variants,
    trust_the_loopback_proxy,
};
use prost_types::FieldMask;
use tonic::{Code, Status};
use tonic_types::StatusExt;

suite_tests!(
    new_passwords_follow_the_policy,
    passwords_are_never_truncated,
    changing_the_password_ends_the_other_sessions,
    settings_are_typed_validated_versioned_and_audited,
);
suite_tests!(manual_clock: a_parallel_burst_verifies_at_most_the_threshold);

suite_variants!(
    start: |mode, backend| Suite::start_with(mode, backend, manual_clock(), trust_the_loopback_proxy);
    threads: 2;
    one_address_guessing_once_per_window_does_not_lock_the_owner_out,
    the_account_wide_ceiling_bounds_guesses_from_many_addresses,
);

fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

async fn change(suite: &Suite, token: &str, current: &str, new: &str) -> Result<i32, Status> {
    let mut passwords = PasswordServiceClient::new(suite.channel());
    let request = ChangePasswordRequest { current_password: current.into(), new_password: new.into() };
    passwords.change_password(authed(request, token)).await.map(|r| r.into_inner().ended_session_count)
}

async fn new_passwords_follow_the_policy(suite: Suite) {
    let token = suite.admin_token().await;
    for (new, expected) in [
        ("short-pass1", "PASSWORD_TOO_SHORT"),
        (&"x1".repeat(65) as &str, "PASSWORD_TOO_LONG"),
        ("Qwerty123456", "PASSWORD_TOO_COMMON"),
        ("1q2w3e4r5t6y", "PASSWORD_TOO_COMMON"),
        (ADMIN_PASSWORD, "PASSWORD_UNCHANGED"),
    ] {
        let status = change(&suite, &token, ADMIN_PASSWORD, new).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{new}");
        assert_eq!(reason(&status), expected, "{new}");
        let fields: Vec<_> =
            status.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["new_password"]);
    }
    let wrong = change(&suite, &token, "not the current password", "a perfectly fine passphrase").await.unwrap_err();
    assert_eq!((wrong.code(), reason(&wrong)), (Code::InvalidArgument, "CURRENT_PASSWORD_WRONG".into()));
    // Twelve characters is enough; nothing else is demanded (no composition rules).
    change(&suite, &token, ADMIN_PASSWORD, "lowercaseonly").await.expect("a 13-letter password is accepted");
    assert_eq!(suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    suite.login(ADMIN_EMAIL, "lowercaseonly").await.expect("the new password logs in");
}

async fn passwords_are_never_truncated(suite: Suite) {
    let token = suite.admin_token().await;
    let long = format!("{}A", "correct horse battery staple ".repeat(4).chars().take(99).collect::<String>());
    assert_eq!(long.chars().count(), 100);
    change(&suite, &token, ADMIN_PASSWORD, &long).await.expect("a 100-character password is accepted");
    let almost = format!("{}B", &long[..99]);
    assert_eq!(suite.login(ADMIN_EMAIL, &almost).await.unwrap_err().code(), Code::Unauthenticated);
    suite.login(ADMIN_EMAIL, &long).await.expect("the exact password logs in");
}

async fn changing_the_password_ends_the_other_sessions(suite: Suite) {
    let current = suite.admin_token().await;
    let other = suite.admin_token().await;
    let third = suite.admin_token().await;
    let ended = change(&suite, &current, ADMIN_PASSWORD, "a brand new passphrase").await.unwrap();
    assert_eq!(ended, 2);
    let mut sessions = SessionServiceClient::new(suite.channel());
    for token in [&other, &third] {
        let status = sessions.who_am_i(authed(WhoAmIRequest {}, token)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    sessions.who_am_i(authed(WhoAmIRequest {}, &current)).await.expect("the session that changed it lives on");
}

async fn settings_are_typed_validated_versioned_and_audited(suite: Suite) {
    let token = suite.admin_token().await;
    let mut settings = SettingsServiceClient::new(suite.channel());
    let before = settings.get_settings(authed(GetSettingsRequest {}, &token)).await.unwrap().into_inner();
    assert_eq!(before.brute_force_threshold, 5);
    assert_eq!(before.recovery_token_lifetime.as_ref().unwrap().seconds, 3600);
    assert_eq!(before.invitation_token_lifetime.as_ref().unwrap().seconds, 72 * 3600);
    let mask = |paths: &[&str]| Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() });

    let changed =
        Settings { ssp_registration_mailbox: "portal@example.com".into(), brute_force_threshold: 7, ..before.clone() };
    let request = UpdateSettingsRequest {
        settings: Some(changed.clone()),
        update_mask: mask(&["ssp_registration_mailbox", "brute_force_threshold"]),
    };
    let after = settings.update_settings(authed(request, &token)).await.unwrap().into_inner();
    assert_eq!((after.ssp_registration_mailbox.as_str(), after.brute_force_threshold), ("portal@example.com", 7));
    assert_ne!(after.etag, before.etag);

    let stale =
        UpdateSettingsRequest { settings: Some(changed.clone()), update_mask: mask(&["brute_force_threshold"]) };
    assert_eq!(settings.update_settings(authed(stale, &token)).await.unwrap_err().code(), Code::Aborted);

    let invalid =
        Settings { brute_force_threshold: 0, ssp_registration_mailbox: "not a mailbox".into(), ..after.clone() };
    let request = UpdateSettingsRequest {
        settings: Some(invalid),
        update_mask: mask(&["brute_force_threshold", "ssp_registration_mailbox"]),
    };
    let status = settings.update_settings(authed(request, &token)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields: Vec<_> =
        status.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    fields.sort();
    assert_eq!(fields, ["settings.brute_force_threshold", "settings.ssp_registration_mailbox"]);

    let mut audit = AuditServiceClient::new(suite.channel());
    let request = ListAuditEventsRequest { action: "settings.update".into(), ..Default::default() };
    let events = audit.list_audit_events(authed(request, &token)).await.unwrap().into_inner().audit_events;
    assert_eq!(events.len(), 1, "one successful change, one event");
    assert!(events[0].before_json.contains("\"brute_force_threshold\":5"), "{}", events[0].before_json);
    assert!(events[0].after_json.contains("\"brute_force_threshold\":7"), "{}", events[0].after_json);
}

/// How many audit events of `action` identity recorded (the audit log is how the number
/// of password verifications shows from outside).
async fn audited(suite: &Suite, token: &str, action: &str) -> usize {
    let mut audit = AuditServiceClient::new(suite.channel());
    let request = ListAuditEventsRequest { action: action.into(), page_size: 500, ..Default::default() };
    audit.list_audit_events(authed(request, token)).await.unwrap().into_inner().audit_events.len()
}

/// Sets the brute-force threshold (per account × address; the account-wide ceiling is ten times it).
async fn set_threshold(suite: &Suite, token: &str, threshold: i32) {
    let mut settings = SettingsServiceClient::new(suite.channel());
    let current = settings.get_settings(authed(GetSettingsRequest {}, token)).await.unwrap().into_inner();
    let request = UpdateSettingsRequest {
        settings: Some(Settings { brute_force_threshold: threshold, ..current }),
        update_mask: Some(FieldMask { paths: vec!["brute_force_threshold".into()] }),
    };
    settings.update_settings(authed(request, token)).await.unwrap();
}

/// A login from `address` behind the trusted proxy: whether it opened a session.
async fn login_from(suite: &Suite, address: &str, password: &str) -> bool {
    let mut sessions = SessionServiceClient::new(suite.channel());
    match sessions.login(forwarded_login(ADMIN_EMAIL, password, address)).await {
        Ok(_) => true,
        Err(status) => {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            false
        }
    }
}

/// Issue 13: 100 simultaneous guesses against one account (threshold 5), the right
/// password among the last: each attempt is counted before its password is verified, so
/// five are verified, the rest (the right password included) refused with the answer a
/// wrong password gets; the right password logs in once the delay is over.
async fn a_parallel_burst_verifies_at_most_the_threshold(suite: Suite) {
    let token = suite.admin_token().await;
    let guess = |password: String| {
        let mut sessions = SessionServiceClient::new(suite.channel());
        tokio::spawn(async move {
            let request = LoginRequest { email: ADMIN_EMAIL.into(), password };
            sessions.login(request).await.map(|_| ()).map_err(|status| (status.code(), status.message().to_owned()))
        })
    };
    let mut guesses: Vec<_> = (0..95).map(|i| guess(format!("wrong guess number {i}"))).collect();
    // The right password joins the burst once it has used up the budget (a refusal is
    // audited before any verification ends), while the wrong guesses are still in flight.
    for _ in 0..600 {
        if audited(&suite, &token, "user.login_refused").await > 0 || guesses.iter().all(|g| g.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    guesses.extend((0..5).map(|_| guess(ADMIN_PASSWORD.into())));
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.unwrap().expect_err("no guess of the burst logs in"));
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "every guess got the same answer: {answers:?}");
    assert_eq!(answers[0].0, Code::Unauthenticated);
    assert_eq!(audited(&suite, &token, "user.login_failed").await, 5, "verifications performed");
    assert_eq!(audited(&suite, &token, "user.login_refused").await, 95);

    // The refusal lasts the delay (1 s at the threshold) and looks like a wrong password.
    let refused = suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap_err();
    assert_eq!((refused.code(), refused.message().to_owned()), answers[0]);
    suite.clock.advance(Duration::from_secs(1));
    suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the right password logs in once the delay is over");
    // That login cleared the count: four wrong guesses and the right one fit in the budget.
    for i in 0..4 {
        suite.login(ADMIN_EMAIL, &format!("another wrong guess {i}")).await.unwrap_err();
    }
    suite.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect("the right password within the budget logs in");
    assert_eq!(audited(&suite, &token, "user.login_failed").await, 9);
}

/// Issue 13: past the threshold, an attacker guessing once per refusal window (15 min)
/// from one address keeps only that address out: the owner logs in from another address
/// every time, long after the attacker's guesses outnumber the account-wide ceiling.
async fn one_address_guessing_once_per_window_does_not_lock_the_owner_out(suite: Suite) {
    const ATTACKER: &str = "203.0.113.7";
    const OWNER: &str = "198.51.100.9";
    let token = suite.admin_token().await;
    set_threshold(&suite, &token, 2).await;
    for guess in 0..2 {
        assert!(!login_from(&suite, ATTACKER, &format!("guess {guess}")).await);
    }
    for window in 0..20 {
        // Once the attacker's window is over, its next guess is verified, and fails.
        suite.clock.advance(Duration::from_secs(15 * 60));
        assert!(!login_from(&suite, ATTACKER, &format!("guess in window {window}")).await);
        assert!(!login_from(&suite, ATTACKER, ADMIN_PASSWORD).await, "the attacker's address waits again");
        assert!(login_from(&suite, OWNER, ADMIN_PASSWORD).await, "the owner is refused in window {window}");
    }
    // 22 verified guesses: past the account-wide ceiling of 20, had they all counted there.
    let token = suite.admin_token().await; // The first session has idled out meanwhile.
    assert_eq!(audited(&suite, &token, "user.login_failed").await, 22);
    assert_eq!(audited(&suite, &token, "user.login_refused").await, 20);
}

/// Issue 13: guesses from many addresses are bounded by the account-wide ceiling (ten times
/// the threshold): once it is reached the account is refused from everywhere, the owner
/// included, for a delay; after it, one attempt at a time gets through.
async fn the_account_wide_ceiling_bounds_guesses_from_many_addresses(suite: Suite) {
    const OWNER: &str = "198.51.100.9";
    let token = suite.admin_token().await;
    set_threshold(&suite, &token, 2).await;
    // Ten addresses, two guesses each, reach the ceiling of 20.
    for address in 0..10 {
        for guess in 0..2 {
            assert!(!login_from(&suite, &format!("203.0.113.{address}"), &format!("guess {guess}")).await);
        }
    }
    assert!(!login_from(&suite, "203.0.113.10", "a fresh address's guess").await);
    assert!(!login_from(&suite, OWNER, ADMIN_PASSWORD).await, "past the ceiling the owner waits too");
    assert_eq!(audited(&suite, &token, "user.login_failed").await, 20);
    assert_eq!(audited(&suite, &token, "user.login_refused").await, 2);

    // After the delay (1 s), twenty fresh addresses guessing at once get one verification.
    suite.clock.advance(Duration::from_secs(1));
    let burst: Vec<_> = (20..40)
        .map(|address| {
            let mut sessions = SessionServiceClient::new(suite.channel());
            tokio::spawn(async move {
                let chain = format!("203.0.113.{address}");
                sessions.login(forwarded_login(ADMIN_EMAIL, "a parallel guess", &chain)).await.unwrap_err().code()
            })
        })
        .collect();
    for guess in burst {
        assert_eq!(guess.await.unwrap(), Code::Unauthenticated);
    }
    assert_eq!(audited(&suite, &token, "user.login_failed").await, 21);
    assert_eq!(audited(&suite, &token, "user.login_refused").await, 21);
    // The delay is bounded (at most brute_force_max_delay): then the owner logs in.
    suite.clock.advance(Duration::from_secs(15 * 60));
    assert!(login_from(&suite, OWNER, ADMIN_PASSWORD).await, "the owner logs in once the delay is over");
}
