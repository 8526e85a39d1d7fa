//! `stetgate core-banking serve`: the reference adapter of the core-banking contract
//! (docs/core-banking.md) on the built-in SQL ledger of the sandbox (`--data-dir`) or of a
//! deployment (`--config`), over HTTPS with mutual TLS and/or a bearer token.

use super::{AdminTarget, admin_command};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use stetgate::config::Mode;
use stetgate::core_banking::adapter;

#[derive(Subcommand)]
pub(crate) enum CoreBankingCommand {
    /// Serve the built-in SQL ledger through the core-banking contract, until SIGTERM or SIGINT:
    /// the counterpart a bank's developers test their adapter against, or a sandbox's ledger in
    /// another process.
    Serve(ServeArgs),
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8700")]
    pub(crate) listen: std::net::SocketAddr,
    /// The adapter's certificate chain (PEM) [default in the sandbox: its server certificate].
    #[arg(long)]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The key of --tls-cert (PEM) [default in the sandbox: its server key].
    #[arg(long)]
    pub(crate) tls_key: Option<PathBuf>,
    /// Require a client certificate chaining to these roots (PEM): stetgate's `client_cert`.
    #[arg(long)]
    pub(crate) client_ca: Option<PathBuf>,
    /// Require `Authorization: Bearer <the file's text>`: stetgate's `bearer_token_file`.
    #[arg(long)]
    pub(crate) bearer_token_file: Option<PathBuf>,
    /// Report the outcome of submitted payments (which the adapter always executes on the SQL
    /// ledger of --config or --data-dir) to this stetgate callback URL
    /// (https://<bank host>/core-banking/v1/payment-status); without it they are only polled.
    #[arg(long, requires = "callback_hmac_key_file")]
    pub(crate) callback_url: Option<String>,
    /// The bank's callback key (stetgate's `callback_hmac_key_file`).
    #[arg(long)]
    pub(crate) callback_hmac_key_file: Option<PathBuf>,
    /// Roots for stetgate's certificate when calling back [default in the sandbox: its CA].
    #[arg(long)]
    pub(crate) callback_ca: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) target: AdminTarget,
}

pub(crate) fn run(command: &CoreBankingCommand) -> std::process::ExitCode {
    let CoreBankingCommand::Serve(args) = command;
    admin_command(&args.target, async |admin, config| {
        stetgate::ops::logging::init(config.log_format, &config.log_level);
        if args.client_ca.is_none() && args.bearer_token_file.is_none() {
            return Err((2, "give --client-ca and/or --bearer-token-file: the adapter must know who calls".into()));
        }
        let bearer = match &args.bearer_token_file {
            Some(path) => Some(stetgate::secret::read_token_file(path).map_err(|e| (2, e))?),
            None => None,
        };
        let pki = config.data_dir.join("pki");
        let (cert, key) = match (&args.tls_cert, &args.tls_key, admin.mode) {
            (Some(cert), Some(key), _) => (cert.clone(), key.clone()),
            (None, None, Mode::Sandbox) => (pki.join("server.pem"), pki.join("server.key")),
            _ => return Err((2, "give --tls-cert and --tls-key (both)".into())),
        };
        let tls = adapter::tls_config(&cert, &key, args.client_ca.as_deref()).map_err(|e| (2, e.to_string()))?;
        if admin.mode == Mode::Sandbox {
            // A fresh data directory gets the published personas, as `sandbox` would.
            let now = stetgate::clock::Clock::now(&stetgate::clock::SystemClock);
            stetgate::sandbox::seed(&admin.store, now).await.map_err(|e| (1, e.to_string()))?;
            let today = now.to_zoned(jiff::tz::TimeZone::get("Europe/Paris").map_err(|e| (1, e.to_string()))?).date();
            stetgate::sandbox::refresh_transactions(&admin.store, today).await.map_err(|e| (1, e.to_string()))?;
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| (1, format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr().map_err(|e| (1, e.to_string()))?;
        say!("stetgate core-banking adapter is serving on https://{addr}/v1/ (contract v1, docs/core-banking.md)");
        let callback = match (&args.callback_url, &args.callback_hmac_key_file) {
            (Some(url), Some(key_file)) => {
                let url = url::Url::parse(url).map_err(|e| (2, format!("--callback-url: {e}")))?;
                let key = stetgate::secret::read_key_file(key_file).map_err(|e| (2, e))?;
                let ca = args.callback_ca.clone().or_else(|| (admin.mode == Mode::Sandbox).then(|| pki.join("ca.pem")));
                let files = stetgate::outbound::TlsFiles { ca: ca.as_deref(), client: None };
                let http = stetgate::outbound::https_client(std::time::Duration::from_secs(5), files)
                    .map_err(|e| (2, format!("--callback-ca: {e}")))?;
                Some(adapter::Callback { url, key, http, clock: Arc::new(stetgate::clock::SystemClock) })
            }
            _ => None,
        };
        let options = adapter::AdapterOptions { bearer, hub: Some(Arc::new(admin.store.clone())), callback };
        let router = adapter::router(Arc::new(admin.store.clone()), options);
        adapter::serve(listener, Arc::new(tls), router, super::serve::shutdown_signal()).await;
        Ok(())
    })
}
