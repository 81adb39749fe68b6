//! The gateway binary. With no configuration it is the all-in-one default: every
//! service in this process on 127.0.0.1:50051, data under ./data/. `--demo` loads the
//! example data once the suite serves ([`gateway::demo`]).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    process::ExitCode,
};

use clap::Parser;
use service_kit::{clock::Clock, config::PortalConfig, server};

#[derive(Parser)]
#[command(about = "The portal's public gRPC entry; with no upstreams configured, the whole suite in one process.")]
struct Cli {
    /// A TOML configuration file (default: ./portal.toml if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Load the demo data (Acme Inc with Boston and Toronto, a service catalog with SLAs,
    /// a Reseller partner) through the public API once serving; loading again changes nothing.
    #[arg(long)]
    demo: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    // First, so that a SIGTERM while the suite starts (migrations, connections) stops it cleanly.
    let stop = server::termination_signal();
    let cli = Cli::parse();
    let result = async {
        let stop = stop.map_err(|e| service_kit::StartError::Other(format!("cannot handle signals: {e}")))?;
        let mut config = PortalConfig::load(cli.config.as_deref())?;
        service_kit::telemetry::init(&config.log);
        let demo_admin_password = cli.demo && config.bootstrap.admin_password.is_empty();
        if demo_admin_password {
            // Only a first start creates the administrator; a known password lets every
            // later `--demo` start log in again to check the demo is there.
            config.bootstrap.admin_password = gateway::demo::DEMO_ADMIN_PASSWORD.into();
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| service_kit::StartError::Other(format!("cannot listen on {}: {e}", config.listen)))?;
        if cli.demo {
            let address = listener.local_addr().unwrap_or(config.listen);
            tokio::spawn(load_demo(
                reachable(address),
                config.bootstrap.admin_email.clone(),
                config.bootstrap.admin_password.clone(),
                demo_admin_password,
            ));
        }
        gateway::serve(config, Clock::system(), listener, stop).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the demo once the gateway serves and prints what it loaded; a failure is
/// reported and leaves the portal serving.
/// The administrator's password is shown only when it is the demo's own, and on standard
/// error, away from the log stream.
async fn load_demo(address: SocketAddr, admin_email: String, admin_password: String, show_password: bool) {
    match gateway::demo::load(address, &admin_email, &admin_password).await {
        Ok(summary) => {
            let password = if show_password { admin_password.as_str() } else { "the configured one" };
            eprintln!("{summary}  System administrator: {admin_email} (password: {password})\n");
        }
        Err(error) => eprintln!("error: the demo data could not be loaded: {error}"),
    }
}

/// The address to call the gateway on: loopback when it listens on every interface.
fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), address.port()),
        _ => address,
    }
}
