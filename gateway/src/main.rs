//! The gateway binary. With no configuration it is the all-in-one default: every
//! service in this process on 127.0.0.1:50051, data under ./data/.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use service_kit::{clock::Clock, config::PortalConfig, server};

#[derive(Parser)]
#[command(about = "The portal's public gRPC entry; with no upstreams configured, the whole suite in one process.")]
struct Cli {
    /// A TOML configuration file (default: ./portal.toml if present).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = async {
        let config = PortalConfig::load(cli.config.as_deref())?;
        service_kit::telemetry::init(&config.log);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| service_kit::StartError::Other(format!("cannot listen on {}: {e}", config.listen)))?;
        gateway::serve(config, Clock::system(), listener, server::termination_signal()).await
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
