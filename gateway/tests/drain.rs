//! The gateway binary as an operator runs it: SIGTERM during a stream of calls
//! turns health NOT_SERVING, lets the calls in flight complete, and exits 0.

use std::{process::Stdio, time::Duration};

use portal_proto::identity::{LoginRequest, session_service_client::SessionServiceClient};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

const PASSWORD: &str = "drain-test-admin-password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_calls_in_flight_and_exits_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut gateway = tokio::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .current_dir(data.path())
        .env("PORTAL__LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTAL__BOOTSTRAP__ADMIN_PASSWORD", PASSWORD)
        .env("PORTAL__SERVER__DRAIN_DELAY_MS", "1500")
        .env("PORTAL__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the gateway binary starts");
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}")).unwrap().connect_lazy();
    let mut health = HealthClient::new(channel.clone());
    let mut serving = false;
    for _ in 0..300 {
        if let Ok(answer) = health.check(HealthCheckRequest { service: String::new() }).await {
            serving = answer.into_inner().status() == ServingStatus::Serving;
            if serving {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(serving, "the gateway became SERVING");

    // Logins (each an argon2 hash, so they are really in flight) on the same connection; fewer
    // than the brute-force threshold, which counts attempts in flight from one address.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let mut sessions = SessionServiceClient::new(channel.clone());
            tokio::spawn(async move {
                sessions
                    .login(LoginRequest { email: "admin@portal.local".into(), password: PASSWORD.into() })
                    .await
                    .map(|r| r.into_inner().token)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pid = gateway.id().expect("running").to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());

    tokio::time::sleep(Duration::from_millis(300)).await;
    let during =
        health.check(HealthCheckRequest { service: String::new() }).await.expect("health answers while draining");
    assert_eq!(during.into_inner().status(), ServingStatus::NotServing);

    for call in calls {
        let token = call.await.unwrap().expect("a call in flight at SIGTERM completes");
        assert!(!token.is_empty());
    }
    let status = tokio::time::timeout(Duration::from_secs(30), gateway.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "exit status {status:?}");
}
