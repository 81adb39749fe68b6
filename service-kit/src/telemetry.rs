//! Tracing output, human-readable or JSON lines, filtered by the configuration or `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber once; later calls (tests starting several suites) are no-ops.
pub fn init(log: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.filter));
    // Colour codes only for a person at a terminal, never into files or log collectors.
    let builder = fmt().with_env_filter(filter).with_target(true).with_ansi(std::io::stdout().is_terminal());
    let installed = match log.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A subscriber already installed (by an earlier start in the same process) is fine.
    drop(installed);
}
