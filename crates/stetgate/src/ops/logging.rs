//! Structured logs: JSON lines when standard error is not a terminal (a container, systemd, CI),
//! readable text when it is. Request logs carry ids, never tokens, signatures, certificates or
//! personal data.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the process's log subscriber (start-up only). `RUST_LOG` overrides `level`.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result =
        if json { builder.json().flatten_event(true).with_current_span(false).try_init() } else { builder.try_init() };
    if let Err(e) = result {
        eprintln!("stetgate: logging was already initialised: {e}");
    }
}
