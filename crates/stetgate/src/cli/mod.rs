//! The `stetgate` commands, one file each; shared here: the administration commands' target
//! (`--config` or `--data-dir`), their runner and their argument parsing.

/// `println!` that does not panic when whoever reads the output has gone (`stetgate certs issue
/// ... | head -1`): what cannot be written is dropped; the command's work is done either way.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = std::io::Write::write_fmt(&mut std::io::stdout().lock(), format_args!("{}\n", format_args!($($arg)*)));
    }};
}

/// `print!`, likewise.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        let _ = std::io::Write::write_fmt(&mut std::io::stdout().lock(), format_args!($($arg)*));
    }};
}

pub(crate) mod certs;
pub(crate) mod core_banking;
pub(crate) mod fallback;
pub(crate) mod fill;
pub(crate) mod ledger;
pub(crate) mod outage;
pub(crate) mod psu;
pub(crate) mod serve;
pub(crate) mod stats;
pub(crate) mod tpp;

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use stetgate::app;
use stetgate::config::{self, Mode, Overrides};

/// Which deployment: the sandbox in --data-dir, or the production one of --config.
#[derive(Args)]
pub(crate) struct AdminTarget {
    /// The production configuration file (its database and trust anchors). Without it, the sandbox
    /// of --data-dir.
    #[arg(long, env = "STETGATE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// The sandbox data directory.
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Database URL [default: the sandbox's SQLite file, or the configuration's].
    #[arg(long)]
    pub(crate) database_url: Option<String>,
}

/// How far back `outage list` and `fallback report` look by default.
pub(crate) const NINETY_DAYS: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);

pub(crate) fn org_id_arg(text: &str) -> Result<stet::OrgId, (u8, String)> {
    stet::OrgId::parse(text)
        .map_err(|_| (2, format!("{text} is not an organization identifier (e.g. PSDFR-ACPR-12345)")))
}

pub(crate) fn bank_code(text: &str) -> Result<stet::BankCode, (u8, String)> {
    stet::BankCode::parse(text).map_err(|_| (2, format!("{text} is not a bank code (5 digits)")))
}

pub(crate) fn store_error(e: stetgate::store::StoreError) -> (u8, String) {
    (1, e.to_string())
}

/// Runs an administration command on the database of the sandbox (`--data-dir`) or of the
/// production configuration (`--config`).
pub(crate) fn admin_command(
    target: &AdminTarget,
    run: impl AsyncFnOnce(&app::Admin, &config::Config) -> Result<(), (u8, String)>,
) -> ExitCode {
    let mode = if target.config.is_some() { Mode::Production } else { Mode::Sandbox };
    let overrides = Overrides {
        data_dir: target.data_dir.clone(),
        database_url: target.database_url.clone(),
        ..Overrides::default()
    };
    // The administration commands need the database and anchors, not the listener's TLS files.
    let config = match config::load(Mode::Sandbox, target.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stetgate: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("stetgate: cannot start the async runtime");
        return ExitCode::from(1);
    };
    runtime.block_on(async {
        let admin = match app::admin(mode, &config, target.config.as_deref(), jiff::Timestamp::now()).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("stetgate: {e}");
                return ExitCode::from(e.exit_code());
            }
        };
        let result = run(&admin, &config).await;
        admin.store.close().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err((code, message)) => {
                eprintln!("stetgate: {message}");
                ExitCode::from(code)
            }
        }
    })
}

/// An instant as the commands print it: RFC 3339, UTC, to the millisecond (what the store keeps).
pub(crate) fn instant(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string()
}
