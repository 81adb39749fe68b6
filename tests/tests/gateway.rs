//! The gateway and the service boundary: reflection, health, routing, the caller
//! assertion, limits (issue: foundation, DESIGN.md §2 and §8).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

use portal_proto::identity::{
    AuthenticateSessionRequest, LoginRequest, WhoAmIRequest,
    identity_internal_service_client::IdentityInternalServiceClient, session_service_client::SessionServiceClient,
};
use portal_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Mode, Suite, authed, forwarded_login, manual_clock, suite_tests, suite_variants,
    trust_the_loopback_proxy,
};
use service_kit::{
    Caller, CallerKind,
    assertion::{AssertionKey, HEADER},
};
use tonic::{Code, Request, codegen::Bytes, metadata::MetadataValue, transport::Endpoint};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

suite_tests!(
    reflection_lists_every_public_service_and_no_internal_one,
    health_reports_serving_for_every_public_service,
    internal_services_are_not_reachable_through_the_gateway,
    services_refuse_calls_without_a_valid_assertion,
    oversized_requests_are_refused_with_a_clear_error,
    stalled_anonymous_streams_do_not_starve_logged_in_calls,
);

suite_variants!(
    start: |mode, backend| Suite::start_with(mode, backend, manual_clock(), trust_the_loopback_proxy);
    threads: 2;
    failed_logins_count_against_the_forwarded_client_address,
);

/// The assertion key being rotated out, still accepted by the rotating suite.
const PREVIOUS_ASSERTION_SECRET: &str = "the assertion key being rotated out, 32+ chars";

suite_variants!(
    start: |mode, backend| Suite::start_with(mode, backend, service_kit::clock::Clock::system(), |config| {
        config.assertion.previous_secret = PREVIOUS_ASSERTION_SECRET.into();
    });
    threads: 2;
    a_rotating_suite_accepts_the_previous_assertion_key_and_refuses_unknown_ones,
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

/// Mid-rotation (`assertion.previous_secret` set), a service accepts a call signed with the
/// previous key, as a process not yet restarted makes them, and still refuses one signed
/// with a key it does not know; the gateway signs with the current key.
async fn a_rotating_suite_accepts_the_previous_assertion_key_and_refuses_unknown_ones(suite: Suite) {
    // Through the gateway (current key) everything works.
    let token = suite.admin_token().await;
    let mut through_gateway = SessionServiceClient::new(suite.channel());
    through_gateway.who_am_i(authed(WhoAmIRequest {}, &token)).await.expect("the gateway's calls are served");
    if suite.mode != Mode::Distributed {
        return; // In the all-in-one default the services have no address of their own.
    }
    let mut sessions = SessionServiceClient::new(Suite::channel_to(suite.service_addresses["identity"]));
    let login = |key: &AssertionKey| {
        let mut request = Request::new(LoginRequest { email: ADMIN_EMAIL.into(), password: ADMIN_PASSWORD.into() });
        key.attach(&Caller::anonymous(), &mut request);
        request
    };
    let previous = AssertionKey::new(PREVIOUS_ASSERTION_SECRET.as_bytes(), 60_000);
    sessions.login(login(&previous)).await.expect("a call signed with the previous key is served");
    let unknown = AssertionKey::new(b"a key this suite never had, long enough to pass", 60_000);
    let status = sessions.login(login(&unknown)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("does not know"), "{}", status.message());
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

/// Stalled streams opened against the gateway: more than its whole in-flight budget.
const STALLED_STREAMS: usize = 1_100;

/// Opens `count` Login streams on connections of `per_connection` streams each, which send
/// nothing, only the 5-byte message prefix, or part of a message, and never end. Each
/// stream's answer (`grpc-status`, or the HTTP/2 error) is sent on `answers` when it comes.
async fn open_stalled_logins(
    address: SocketAddr,
    count: usize,
    per_connection: usize,
    answers: tokio::sync::mpsc::UnboundedSender<String>,
) -> Vec<h2::client::SendRequest<Bytes>> {
    let mut connections = Vec::new();
    for first in (0..count).step_by(per_connection) {
        let tcp = tokio::net::TcpStream::connect(address).await.expect("connect");
        let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
        tokio::spawn(connection);
        for stream in first..(first + per_connection).min(count) {
            // A Login message of 40 bytes is announced; 0, 5 or 15 bytes of it are sent.
            let mut message = vec![0, 0, 0, 0, 40];
            message.extend_from_slice(&[b'x'; 10]);
            let sent = Bytes::from(message).slice(..[0, 5, 15][stream % 3]);
            let request = http::Request::post(format!("http://{address}/portal.identity.v1.SessionService/Login"))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .body(())
                .expect("request");
            let mut client = client.clone().ready().await.expect("a stream slot");
            let (response, mut body) = client.send_request(request, false).expect("stream opened");
            // A stream refused at once may be closed before its bytes go out (InactiveStreamId);
            // its answer still arrives through `response`.
            if !sent.is_empty() {
                let _ = body.send_data(sent, false);
            }
            let answers = answers.clone();
            tokio::spawn(async move {
                let answer = match response.await {
                    Ok(response) => {
                        response.headers().get("grpc-status").and_then(|code| code.to_str().ok()).map_or_else(
                            || "no grpc-status".to_owned(),
                            |code| format!("{:?}", Code::from(code.parse::<i32>().unwrap_or(2))),
                        )
                    }
                    Err(error) => format!("HTTP/2 error: {error}"),
                };
                drop(body);
                let _ = answers.send(answer);
            });
        }
        connections.push(client);
    }
    connections
}

/// How many times each answer came.
fn tally(answers: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.as_str()).or_default() += 1;
    }
    counts
}

/// Issue 13: streams that open and never deliver their message must not take the slots of
/// logged-in users (a budget of their own), and end at the first-message deadline rather
/// than the call timeout.
async fn stalled_anonymous_streams_do_not_starve_logged_in_calls(suite: Suite) {
    let token = suite.admin_token().await;
    let without_login = suite.config.gateway.max_in_flight_without_login;
    let per_connection = suite.config.gateway.max_streams_per_connection as usize;
    let deadline = Duration::from_millis(suite.config.server.first_message_timeout_ms);
    assert!(STALLED_STREAMS > suite.config.server.max_in_flight, "the stall must exceed the whole old budget");
    let (answers_tx, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let opened = Instant::now();
    let connections = open_stalled_logins(suite.address, STALLED_STREAMS, per_connection, answers_tx).await;
    // Streams beyond the budget without a login are refused at once; the rest are held.
    let mut shed = Vec::new();
    while shed.len() < STALLED_STREAMS - without_login {
        let answer = tokio::time::timeout(Duration::from_secs(5), answers.recv()).await;
        shed.push(answer.expect("streams beyond the budget are refused at once").expect("an answer"));
    }
    assert_eq!(tally(&shed), [("ResourceExhausted", shed.len())].into(), "answers to the streams refused at once");
    for connection in &connections {
        assert_eq!(connection.current_max_send_streams(), per_connection, "the per-connection stream limit");
    }
    // Meanwhile logged-in calls from another connection are served.
    let channel = suite.channel();
    let callers = (0..8).map(|_| {
        let mut sessions = SessionServiceClient::new(channel.clone());
        let token = token.clone();
        tokio::spawn(async move {
            let (mut served, mut failed) = (0usize, Vec::new());
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                match sessions.who_am_i(authed(WhoAmIRequest {}, &token)).await {
                    Ok(_) => served += 1,
                    Err(status) => failed.push(status.code()),
                }
            }
            (served, failed)
        })
    });
    let (mut served, mut failed) = (0, Vec::new());
    for caller in callers.collect::<Vec<_>>() {
        let (ok, errors) = caller.await.expect("a caller");
        served += ok;
        failed.extend(errors);
    }
    let held = STALLED_STREAMS - shed.len() - answers.len();
    eprintln!(
        "{STALLED_STREAMS} stalled Login streams ({} refused at once, {held} held): {served} of {} WhoAmI calls served",
        shed.len(),
        served + failed.len(),
    );
    assert_eq!(
        held,
        without_login,
        "the stalled streams held their slots while WhoAmI ran ({:?} elapsed)",
        opened.elapsed()
    );
    assert!(served > 0 && served * 100 >= (served + failed.len()) * 99, "{served} served; failures {failed:?}");
    // The held streams end at the first-message deadline, well before the call timeout.
    let mut ended = Vec::new();
    let by = tokio::time::Instant::from_std(opened + deadline + Duration::from_secs(3));
    while ended.len() < held {
        let answer = tokio::time::timeout_at(by, answers.recv()).await;
        ended.push(answer.expect("held streams end at the first-message deadline").expect("an answer"));
    }
    assert_eq!(tally(&ended), [("DeadlineExceeded", held)].into(), "answers to the held streams");
    assert!(opened.elapsed() >= deadline, "the held streams were ended before the deadline");
}

/// Issue 14: behind a trusted proxy, failed logins count against the client the proxy
/// names, so one attacker does not lock everyone out. (The suite's clock stands still, so
/// the attacker's refusal window lasts.)
async fn failed_logins_count_against_the_forwarded_client_address(suite: Suite) {
    const ATTACKER: &str = "203.0.113.7";
    let mut sessions = SessionServiceClient::new(suite.channel());
    for attempt in 0..60 {
        // The attacker writes entries of its own, a different one each time; the proxy
        // appends the address it saw. It sprays accounts, one guess each, which only the
        // per-address counter (threshold 50) sees.
        let chain = format!("192.0.2.{attempt}, {ATTACKER}");
        let email = format!("nobody{attempt}@example.com");
        let status = sessions.login(forwarded_login(&email, "a wrong password", &chain)).await;
        assert_eq!(status.unwrap_err().code(), Code::Unauthenticated);
    }
    sessions
        .login(forwarded_login(ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.9"))
        .await
        .expect("another client behind the same proxy logs in");
    // The attacker's address, and only it, is refused even with the right password.
    let refused = sessions.login(forwarded_login(ADMIN_EMAIL, ADMIN_PASSWORD, ATTACKER)).await;
    assert_eq!(refused.unwrap_err().code(), Code::Unauthenticated, "the failures were counted for {ATTACKER}");
    // A peer that is not a trusted proxy cannot name an address: it is counted as itself.
    let untrusted = Endpoint::from_shared(format!("http://{}", suite.address))
        .expect("uri")
        .local_address(Some("127.0.0.2".parse().expect("an address")))
        .connect_lazy();
    SessionServiceClient::new(untrusted)
        .login(forwarded_login(ADMIN_EMAIL, ADMIN_PASSWORD, ATTACKER))
        .await
        .expect("an untrusted peer's x-forwarded-for is ignored");
}
