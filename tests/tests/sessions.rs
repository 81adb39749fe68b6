//! Login, WhoAmI and Logout through the gateway (issue: foundation, DESIGN.md §3 sessions).

use portal_proto::identity::{
    LoginRequest, LogoutRequest, UserKind, WhoAmIRequest, session_service_client::SessionServiceClient,
};
use portal_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Suite, authed, suite_tests};
use tonic::Code;

suite_tests!(
    administrator_logs_in_and_is_recognised,
    wrong_password_and_unknown_user_get_the_same_answer,
    calls_without_a_valid_token_are_unauthenticated,
    logout_ends_the_session_on_the_next_call,
    login_validates_its_fields,
);

async fn administrator_logs_in_and_is_recognised(suite: Suite) {
    let mut sessions = SessionServiceClient::new(suite.channel());
    let login = sessions
        .login(LoginRequest { email: "  Admin@Portal.TEST ".into(), password: ADMIN_PASSWORD.into() })
        .await
        .expect("login with the email in another case")
        .into_inner();
    assert!(login.token.len() >= 43, "a token carries at least 256 bits");
    let me = sessions.who_am_i(authed(WhoAmIRequest {}, &login.token)).await.expect("whoami").into_inner();
    assert_eq!(me.email, ADMIN_EMAIL);
    assert_eq!(me.user_id, login.user_id);
    assert_eq!(me.session_id, login.session_id);
    assert_eq!(me.kind(), UserKind::Employee);
    assert!(me.system_administrator);
}

async fn wrong_password_and_unknown_user_get_the_same_answer(suite: Suite) {
    let mut sessions = SessionServiceClient::new(suite.channel());
    let wrong = sessions
        .login(LoginRequest { email: ADMIN_EMAIL.into(), password: "not the password at all".into() })
        .await
        .unwrap_err();
    let unknown = sessions
        .login(LoginRequest { email: "nobody@portal.test".into(), password: "not the password at all".into() })
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert_eq!((wrong.code(), wrong.message()), (unknown.code(), unknown.message()));
}

async fn calls_without_a_valid_token_are_unauthenticated(suite: Suite) {
    let mut sessions = SessionServiceClient::new(suite.channel());
    let none = sessions.who_am_i(WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated);
    assert!(none.message().contains("authorization: Bearer"), "{}", none.message());
    let made_up = sessions.who_am_i(authed(WhoAmIRequest {}, "made-up-token")).await.unwrap_err();
    assert_eq!(made_up.code(), Code::Unauthenticated);
}

async fn logout_ends_the_session_on_the_next_call(suite: Suite) {
    let first = suite.admin_token().await;
    let second = suite.admin_token().await;
    let mut sessions = SessionServiceClient::new(suite.channel());
    sessions.logout(authed(LogoutRequest {}, &first)).await.expect("logout");
    let after = sessions.who_am_i(authed(WhoAmIRequest {}, &first)).await.unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated);
    // Other sessions of the same user live on.
    sessions.who_am_i(authed(WhoAmIRequest {}, &second)).await.expect("the other session still works");
}

async fn login_validates_its_fields(suite: Suite) {
    use tonic_types::StatusExt;
    let mut sessions = SessionServiceClient::new(suite.channel());
    let status = sessions.login(LoginRequest { email: String::new(), password: "x".repeat(129) }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["email", "password"]);
}
