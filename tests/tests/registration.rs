//! Self-registration through the gateway (issue 4, DESIGN.md §3 "Self-registration"):
//! a confirmation email, a confirmed account that logs in with a seat of the configured
//! product; an already-registered email gets the same answer and an "already
//! registered" email; with no free seat, RESOURCE_EXHAUSTED and nothing created.

mod support {
    pub mod links;
}

use std::time::Duration;

use portal_proto::identity::{
    ConfirmRegistrationRequest, ConfirmRegistrationResponse, GetLicenceProductRequest, GetUserRequest, RegisterRequest,
    ReleaseLicenceRequest, Settings, licence_service_client::LicenceServiceClient,
    registration_service_client::RegistrationServiceClient, user_service_client::UserServiceClient,
};
use portal_tests::authed;
use support::links::{BASE, LinkSuite, ONE_SEAT, PASSWORD, PRODUCT, refusal, token_in};
use tonic::{Code, Status, transport::Channel};

link_tests!(clock: service_kit::clock::Clock::system();
    a_confirmed_registration_logs_in_with_a_licence_of_the_configured_product,
    an_existing_email_gets_the_same_answer_and_an_already_registered_email,
    without_a_free_seat_nothing_is_created_and_the_link_stays_usable,
    registration_is_refused_while_turned_off,
    a_user_created_meanwhile_spends_the_link,
    a_confirmed_user_gets_the_default_roles,
);

const SELF_SERVICE: &str = "self-service-portal-on-site";

fn registrations(suite: &LinkSuite) -> RegistrationServiceClient<Channel> {
    RegistrationServiceClient::new(suite.suite.channel())
}

async fn enable(suite: &LinkSuite, product: &str) {
    let values = Settings {
        self_registration_enabled: true,
        ssp_user_registration_lic_package: product.into(),
        ..Default::default()
    };
    suite.settings(values, &["self_registration_enabled", "ssp_user_registration_lic_package"]).await;
}

async fn register(suite: &LinkSuite, email: &str, password: &str) -> Result<(), Status> {
    let request = RegisterRequest { email: email.into(), password: password.into(), ..Default::default() };
    registrations(suite).register(request).await.map(|r| assert_eq!(r.into_inner(), Default::default()))
}

async fn confirm(suite: &LinkSuite, token: &str) -> Result<ConfirmRegistrationResponse, Status> {
    let request = ConfirmRegistrationRequest { token: token.into() };
    registrations(suite).confirm_registration(request).await.map(|r| r.into_inner())
}

async fn used_seats(suite: &LinkSuite, product: &str) -> i32 {
    let admin = suite.admin().await;
    let request = GetLicenceProductRequest { id: product.into() };
    let mut licences = LicenceServiceClient::new(suite.suite.channel());
    licences.get_licence_product(authed(request, &admin)).await.unwrap().into_inner().used_seats
}

async fn a_confirmed_registration_logs_in_with_a_licence_of_the_configured_product(suite: LinkSuite) {
    enable(&suite, SELF_SERVICE).await;
    register(&suite, "New.Person@Example.com", PASSWORD).await.unwrap();
    let token = suite.token("New.Person@Example.com", "confirm-registration", 1).await;
    let refused = suite.suite.login("new.person@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "nothing exists before the confirmation");

    let confirmed = confirm(&suite, &token).await.unwrap();
    assert_eq!(confirmed.email, "New.Person@Example.com");
    let session = suite.suite.login("new.person@example.com", PASSWORD).await.expect("the confirmed account logs in");
    assert!(suite.session_works(&session).await);
    let admin = suite.admin().await;
    let mut users = UserServiceClient::new(suite.suite.channel());
    let user = users.get_user(authed(GetUserRequest { id: confirmed.user_id }, &admin)).await.unwrap().into_inner();
    assert_eq!((user.licence_product_id.as_str(), user.full_name.as_str()), (SELF_SERVICE, "New.Person"));
    assert_eq!(refusal(confirm(&suite, &token).await), (Code::FailedPrecondition, "TOKEN_ALREADY_USED".into()));
    assert_eq!(refusal(confirm(&suite, "not-a-token").await), (Code::NotFound, "TOKEN_NOT_FOUND".into()));
}

async fn an_existing_email_gets_the_same_answer_and_an_already_registered_email(suite: LinkSuite) {
    enable(&suite, SELF_SERVICE).await;
    suite.external("Taken@Example.com", PRODUCT, PASSWORD).await.unwrap();
    register(&suite, "taken@EXAMPLE.com", "somebody else's password").await.expect("the same answer as a new email");
    register(&suite, "fresh@example.com", PASSWORD).await.expect("a new email");
    let already = suite.wait_mail_to("Taken@Example.com", 1).await;
    assert!(already[0].text.contains(&format!("{BASE}/login")), "the login link: {}", already[0].text);
    assert!(!already[0].text.contains("token="), "no confirmation link for an existing account");
    token_in(&suite.wait_mail_to("fresh@example.com", 1).await[0], "confirm-registration");
    suite.suite.login("taken@example.com", PASSWORD).await.expect("the existing account is untouched");

    let bad = registrations(&suite)
        .register(RegisterRequest { email: "Bad Address".into(), password: PASSWORD.into(), ..Default::default() })
        .await;
    assert_eq!(refusal(bad), (Code::InvalidArgument, "INVALID_EMAIL".into()));
    let weak = register(&suite, "weak@example.com", "password").await;
    assert_eq!(refusal(weak), (Code::InvalidArgument, "PASSWORD_TOO_SHORT".into()));
}

async fn without_a_free_seat_nothing_is_created_and_the_link_stays_usable(suite: LinkSuite) {
    enable(&suite, ONE_SEAT).await;
    let holder = suite.external("holder@example.com", ONE_SEAT, PASSWORD).await.unwrap();
    assert_eq!(used_seats(&suite, ONE_SEAT).await, 1);
    register(&suite, "late@example.com", PASSWORD).await.unwrap();
    let token = suite.token("late@example.com", "confirm-registration", 1).await;
    assert_eq!(refusal(confirm(&suite, &token).await), (Code::ResourceExhausted, "NO_FREE_SEAT".into()));
    assert_eq!(used_seats(&suite, ONE_SEAT).await, 1);
    assert_eq!(suite.suite.login("late@example.com", PASSWORD).await.unwrap_err().code(), Code::Unauthenticated);
    // Registering again would be refused as taken if a user had been created.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(suite.mail_to("late@example.com").len() == 1);

    let admin = suite.admin().await;
    let mut licences = LicenceServiceClient::new(suite.suite.channel());
    licences.release_licence(authed(ReleaseLicenceRequest { user_id: holder.id }, &admin)).await.unwrap();
    confirm(&suite, &token).await.expect("the link was not spent");
    suite.suite.login("late@example.com", PASSWORD).await.expect("confirmed once a seat is free");
}

async fn registration_is_refused_while_turned_off(suite: LinkSuite) {
    let refused = register(&suite, "someone@example.com", PASSWORD).await;
    assert_eq!(refusal(refused), (Code::FailedPrecondition, "SELF_REGISTRATION_DISABLED".into()));
}

async fn a_user_created_meanwhile_spends_the_link(suite: LinkSuite) {
    enable(&suite, SELF_SERVICE).await;
    register(&suite, "racer@example.com", PASSWORD).await.unwrap();
    let token = suite.token("racer@example.com", "confirm-registration", 1).await;
    suite.external("Racer@Example.com", PRODUCT, "").await.unwrap();
    let used = used_seats(&suite, SELF_SERVICE).await;
    assert_eq!(refusal(confirm(&suite, &token).await), (Code::AlreadyExists, "EMAIL_ALREADY_USED".into()));
    assert_eq!(refusal(confirm(&suite, &token).await), (Code::FailedPrecondition, "TOKEN_ALREADY_USED".into()));
    assert_eq!(used_seats(&suite, SELF_SERVICE).await, used, "no seat taken");
}

async fn a_confirmed_user_gets_the_default_roles(suite: LinkSuite) {
    use portal_proto::identity::{
        CreateRoleRequest, ListRoleMembershipsRequest, Role, RoleKind, role_membership::Member,
        role_service_client::RoleServiceClient,
    };
    let admin = suite.admin().await;
    let role = Role {
        display_name: "Self-registered".into(),
        kind: RoleKind::Functional.into(),
        user_kind: portal_proto::identity::UserKind::External.into(),
        ..Default::default()
    };
    let role = RoleServiceClient::new(suite.suite.channel())
        .create_role(authed(CreateRoleRequest { role: Some(role), request_id: String::new() }, &admin))
        .await
        .expect("a functional role")
        .into_inner();
    enable(&suite, SELF_SERVICE).await;
    let values = Settings { self_registration_default_role_ids: vec![role.id.clone()], ..Default::default() };
    suite.settings(values, &["self_registration_default_role_ids"]).await;
    register(&suite, "member@example.com", PASSWORD).await.unwrap();
    let token = suite.token("member@example.com", "confirm-registration", 1).await;
    let confirmed = confirm(&suite, &token).await.unwrap();
    let request = ListRoleMembershipsRequest { user_id: confirmed.user_id.clone(), ..Default::default() };
    let memberships = RoleServiceClient::new(suite.suite.channel())
        .list_role_memberships(authed(request, &admin))
        .await
        .unwrap()
        .into_inner()
        .memberships;
    let direct: Vec<_> = memberships
        .into_iter()
        .filter(|m| m.member == Some(Member::UserId(confirmed.user_id.clone())))
        .map(|m| m.role_id)
        .collect();
    assert!(direct.contains(&role.id), "{direct:?}");
}
