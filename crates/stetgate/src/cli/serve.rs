//! `stetgate sandbox` and `stetgate serve`: load the configuration, start, serve until SIGTERM or
//! SIGINT.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stetgate::app::{self, Server};
use stetgate::clock::SystemClock;
use stetgate::config::{self, Mode, Overrides};
use stetgate::ops::logging;

#[derive(Args)]
pub(crate) struct SandboxArgs {
    /// TOML configuration file (optional in the sandbox).
    #[arg(long, env = "STETGATE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long)]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// Where the database and the sandbox PKI live [default: ./stetgate-data].
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// sqlite:... or postgres://... [default: SQLite file in the data dir].
    #[arg(long)]
    pub(crate) database_url: Option<String>,
    /// Bank code answering hosts without www.<bankcode>. [default: 17515].
    #[arg(long)]
    pub(crate) default_bank: Option<String>,
    /// Extra QTSP root bundle (PEM) TPP certificates may chain to; repeatable.
    #[arg(long = "trust-anchors")]
    pub(crate) trust_anchors: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "STETGATE_CONFIG")]
    pub(crate) config: PathBuf,
}

/// `stetgate sandbox`.
pub(crate) fn sandbox(a: SandboxArgs) -> ExitCode {
    let overrides = Overrides {
        listen: a.listen,
        data_dir: a.data_dir,
        database_url: a.database_url,
        default_bank: a.default_bank,
        trust_anchors: (!a.trust_anchors.is_empty()).then_some(a.trust_anchors),
    };
    run(Mode::Sandbox, a.config, &overrides)
}

/// `stetgate serve`.
pub(crate) fn serve(a: ServeArgs) -> ExitCode {
    run(Mode::Production, Some(a.config), &Overrides::default())
}

/// Loads the configuration (exit 2 on a problem), starts (the error's exit code when something
/// cannot be set up), then serves until SIGTERM or SIGINT.
fn run(mode: Mode, file: Option<PathBuf>, overrides: &Overrides) -> ExitCode {
    let config = match config::load(mode, file.as_deref(), overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stetgate: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format, &config.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stetgate: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let server = match app::start(mode, config, file.as_deref(), Arc::new(SystemClock)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("stetgate: {e}");
                return ExitCode::from(e.exit_code());
            }
        };
        print_banner(&server);
        server.run(shutdown_signal()).await;
        tracing::info!("stopped");
        ExitCode::SUCCESS
    })
}

/// What a newcomer needs after `stetgate sandbox`: where it listens, where its files are, what to
/// trust, what to try.
fn print_banner(server: &Server) {
    let addr = server.local_addr;
    let host = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    let port = addr.port();
    let state = server.state();
    let text = match &server.sandbox {
        Some(info) => {
            let ca = info.pki.ca_cert.display();
            let default_bank = state.config.default_bank;
            let first = if info.first_start { " (first start: personas, database and test CA created)" } else { "" };
            format!(
                "stetgate sandbox is running{first}\n\
                 \x20 portal       https://{host}:{port}/  (personas, test certificates, your requests)\n\
                 \x20 URL          https://{host}:{port}/stet/psd2/\n\
                 \x20 per bank     https://www.<bankcode>.sandbox.localhost:{port}/stet/psd2/  (e.g. www.13807...; default bank {default_bank})\n\
                 \x20 data dir     {}\n\
                 \x20 test CA      {ca}  (the QTSP root to trust, and the issuer of TPP test certificates)\n\
                 next step:\n\
                 \x20 curl --cacert {ca} https://www.{default_bank}.sandbox.localhost:{port}/stet/psd2/aspsp\n",
                info.data_dir.display()
            )
        }
        None => format!("stetgate is serving on https://{addr}\n"),
    };
    // The server must keep running even if nobody reads its standard output any more.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
