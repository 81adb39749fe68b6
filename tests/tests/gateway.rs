//! The gateway and the service boundary: reflection, health, routing, the caller
//! assertion, limits (issue: foundation, DESIGN.md §2 and §8).

use portal_proto::identity::{
    AuthenticateSessionRequest, LoginRequest, WhoAmIRequest,
    identity_internal_service_client::IdentityInternalServiceClient, session_service_client::SessionServiceClient,
};
use portal_tests::{Mode, Suite, authed, suite_tests};
use service_kit::{
    Caller, CallerKind,
    assertion::{AssertionKey, HEADER},
};
use tonic::{Code, Request, metadata::MetadataValue};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

suite_tests!(
    reflection_lists_every_public_service_and_no_internal_one,
    health_reports_serving_for_every_public_service,
    internal_services_are_not_reachable_through_the_gateway,
    services_refuse_calls_without_a_valid_assertion,
    oversized_requests_are_refused_with_a_clear_error,
);

/// The services the gateway lists through reflection (v1).
async fn list_services(suite: &Suite) -> Vec<String> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::new(suite.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client.server_reflection_info(tokio_stream::once(request)).await.expect("reflection").into_inner();
    match stream.message().await.expect("a reflection answer").expect("one message").message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn reflection_lists_every_public_service_and_no_internal_one(suite: Suite) {
    let services = list_services(&suite).await;
    for area in ["identity", "access", "case", "partner", "notify"] {
        assert!(
            services.iter().any(|s| s.starts_with(&format!("portal.{area}.v1."))),
            "no {area} service in {services:?}"
        );
    }
    for expected in
        ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
    {
        assert!(services.iter().any(|s| s == expected), "{expected} missing from {services:?}");
    }
    assert!(!services.iter().any(|s| s.ends_with("InternalService")), "internal service listed: {services:?}");
}

async fn health_reports_serving_for_every_public_service(suite: Suite) {
    let mut health = HealthClient::new(suite.channel());
    let overall = health.check(HealthCheckRequest { service: String::new() }).await.expect("health").into_inner();
    assert_eq!(overall.status(), ServingStatus::Serving);
    for service in list_services(&suite).await.into_iter().filter(|s| s.starts_with("portal.")) {
        let answer = health.check(HealthCheckRequest { service: service.clone() }).await.expect("health").into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service}");
    }
}

async fn internal_services_are_not_reachable_through_the_gateway(suite: Suite) {
    let token = suite.admin_token().await;
    let mut internal = IdentityInternalServiceClient::new(suite.channel());
    let status = internal
        .authenticate_session(authed(AuthenticateSessionRequest { token: token.clone() }, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(status.message().contains("not a public method"), "{}", status.message());
}

async fn services_refuse_calls_without_a_valid_assertion(suite: Suite) {
    if suite.mode != Mode::Distributed {
        return; // In the all-in-one default the services have no address of their own.
    }
    let identity = Suite::channel_to(suite.service_addresses["identity"]);
    let mut sessions = SessionServiceClient::new(identity);
    let key = AssertionKey::new(suite.config.assertion.secret.as_bytes(), 60_000);
    let forger = AssertionKey::new(b"a key that is not the suite's key, long enough", 60_000);
    let admin = Caller {
        kind: CallerKind::Employee,
        user_id: "someone".into(),
        system_administrator: true,
        ..Caller::anonymous()
    };
    let with = |assertion: Option<String>| {
        let mut request = Request::new(WhoAmIRequest {});
        if let Some(assertion) = assertion {
            request.metadata_mut().insert(HEADER, MetadataValue::try_from(assertion).unwrap());
        }
        request
    };
    for (case, assertion) in [
        ("none", None),
        ("expired", Some(key.sign_until(&admin, 1))),
        ("forged", Some(forger.sign(&admin))),
        ("garbage", Some("not-an-assertion".to_owned())),
    ] {
        let status = sessions.who_am_i(with(assertion)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
    }
    // The same service accepts a properly signed anonymous call (so the refusals above are real).
    let mut login = Request::new(LoginRequest {
        email: portal_tests::ADMIN_EMAIL.into(),
        password: portal_tests::ADMIN_PASSWORD.into(),
    });
    key.attach(&Caller::anonymous(), &mut login);
    sessions.login(login).await.expect("a signed call is served");
    // Internal services accept only services, even with a valid user assertion.
    let mut internal = IdentityInternalServiceClient::new(Suite::channel_to(suite.service_addresses["identity"]));
    let mut request = Request::new(AuthenticateSessionRequest { token: "x".into() });
    key.attach(&admin, &mut request);
    assert_eq!(internal.authenticate_session(request).await.unwrap_err().code(), Code::PermissionDenied);
}

async fn oversized_requests_are_refused_with_a_clear_error(suite: Suite) {
    let mut sessions = SessionServiceClient::new(suite.channel());
    let huge = "x".repeat(suite.config.server.max_message_bytes + 1);
    let status = sessions.login(LoginRequest { email: "a@b.co".into(), password: huge }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("limit"), "{}", status.message());
    // The gateway keeps serving afterwards.
    suite.admin_token().await;
}
