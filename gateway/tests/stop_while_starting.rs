//! The gateway binary told to stop while it is still starting: SIGTERM while its
//! services wait for their database ends the process cleanly instead of killing it
//! half-way (or being ignored until it serves).

use std::{process::Stdio, time::Duration};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_starting_exits_cleanly() {
    // A "database" that accepts connections and never answers, so the start stays in progress.
    let database = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let database_port = database.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let mut gateway = tokio::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .current_dir(data.path())
        .env("PORTAL__LISTEN", "127.0.0.1:0")
        .env("PORTAL__DATABASE__URL", format!("postgres://portal@127.0.0.1:{database_port}/portal"))
        .env("PORTAL__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the gateway binary starts");

    let (_connection, _) = tokio::time::timeout(Duration::from_secs(30), database.accept())
        .await
        .expect("the gateway connects to its database while starting")
        .unwrap();
    let pid = gateway.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(signalled.success());

    let status = tokio::time::timeout(Duration::from_secs(10), gateway.wait())
        .await
        .expect("the gateway stops promptly when told to while starting")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}
