//! The `stetgate` command: `sandbox` (a self-contained test bank) and `serve` (production).

use clap::{Args, Parser, Subcommand};
use std::io::Write;

/// `println!` that does not panic when whoever reads the output has gone (`stetgate certs issue
/// ... | head -1`): what cannot be written is dropped; the command's work is done either way.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `print!`, likewise.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stetgate::app::{self, Server};
use stetgate::clock::SystemClock;
use stetgate::config::{self, Mode, Overrides};
use stetgate::ops::logging;

#[derive(Parser)]
#[command(name = "stetgate", version, about = "A STET PSD2 dedicated interface for banks (ASPSPs)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sandbox: the published test banks and personas on embedded SQLite, with a test
    /// certificate authority, over HTTPS.
    Sandbox(SandboxArgs),
    /// Run in production: PostgreSQL, the bank's own TLS certificate and QTSP trust anchors, all from
    /// the configuration file. Nothing is seeded.
    Serve(ServeArgs),
    /// Test certificates for TPP developers, issued by the sandbox CA.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Registered TPPs (the operator's side of the registration API).
    #[command(subcommand)]
    Tpp(TppCommand),
    /// Availability and performance statistics (RTS art. 32).
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Declared unavailability of the dedicated interface (counted as downtime; opens the fallback
    /// of banks that offer it only then).
    #[command(subcommand)]
    Outage(OutageCommand),
    /// The record of fallback uses (RTS art. 33), for abuse reports.
    #[command(subcommand)]
    Fallback(FallbackCommand),
    /// Fill a bank's ledger with deterministic synthetic PSUs, accounts and operations, for
    /// performance measurements (docs/performance.md). Never on a production database.
    Fill(FillArgs),
}

#[derive(Args)]
struct FillArgs {
    /// How many accounts the bank should have from the fill (accounts 0..N; those already there
    /// are kept, so filling 10000 after 1000 adds 9000).
    #[arg(long)]
    accounts: u64,
    /// The bank (in the sandbox, a published bank code).
    #[arg(long, default_value = "17515")]
    bank: String,
    /// Operations of every account but the first.
    #[arg(long, default_value_t = 2)]
    transactions_per_account: u32,
    /// Operations of account 0 (PSU F0000000000), the account of the transactions benchmark.
    #[arg(long, default_value_t = 500)]
    large_account_operations: u32,
    #[command(flatten)]
    target: TppTarget,
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Export a period's statistics per bank, day and endpoint family.
    Export(StatsExportArgs),
}

#[derive(Args)]
struct StatsExportArgs {
    /// The quarter, e.g. 2026Q4 (a month 2026-11 or a day 2026-11-21 work too).
    #[arg(long)]
    quarter: String,
    /// One bank code [default: every bank of the deployment].
    #[arg(long)]
    bank: Option<String>,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    format: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    target: TppTarget,
}

#[derive(Subcommand)]
enum OutageCommand {
    /// Declare the dedicated interface of a bank unavailable from now.
    Start {
        #[arg(long)]
        bank: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: TppTarget,
    },
    /// Declare it available again.
    End {
        #[arg(long)]
        bank: String,
        #[command(flatten)]
        target: TppTarget,
    },
    /// List the outages of the last 90 days.
    List {
        #[arg(long)]
        bank: String,
        #[command(flatten)]
        target: TppTarget,
    },
}

#[derive(Subcommand)]
enum FallbackCommand {
    /// Every fallback use (TPP, time, outcome) since a day, tab-separated.
    Report {
        /// Only this bank.
        #[arg(long)]
        bank: Option<String>,
        /// From this day (YYYY-MM-DD, Paris) [default: 90 days ago].
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        target: TppTarget,
    },
}

#[derive(Subcommand)]
enum TppCommand {
    /// Register a TPP (or replace its registration) from its QWAC and QSealC files.
    Register(TppRegisterArgs),
    /// List registered TPPs.
    List(TppTarget),
    /// Suspend a TPP: its tokens, refreshes, registration updates and authorizations are refused at
    /// once on every node, until the bank reactivates it (the registration API cannot).
    Suspend {
        /// The TPP's organization identifier (its client_id), e.g. PSDFR-ACPR-12345.
        org_id: String,
        /// Why, for the record (shown by `tpp list`).
        #[arg(long, default_value = "suspended by the bank")]
        reason: String,
        #[command(flatten)]
        target: TppTarget,
    },
    /// Lift a suspension.
    Reactivate {
        org_id: String,
        #[command(flatten)]
        target: TppTarget,
    },
}

/// Which deployment: the sandbox in --data-dir, or the production one of --config.
#[derive(Args)]
struct TppTarget {
    /// The production configuration file (its database and trust anchors). Without it, the sandbox
    /// of --data-dir.
    #[arg(long, env = "STETGATE_CONFIG")]
    config: Option<PathBuf>,
    /// The sandbox data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL [default: the sandbox's SQLite file, or the configuration's].
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Args)]
struct TppRegisterArgs {
    /// The TPP's QWAC (PEM); its organizationIdentifier becomes the client_id.
    #[arg(long)]
    qwac: PathBuf,
    /// The TPP's QSealC (PEM), whose key signs its requests.
    #[arg(long)]
    qseal: PathBuf,
    /// A redirect URI (repeatable).
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// The TPP's name.
    #[arg(long)]
    name: String,
    /// A contact e-mail address (repeatable).
    #[arg(long = "contact")]
    contacts: Vec<String>,
    #[command(flatten)]
    target: TppTarget,
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Issue a QWAC (TLS) and a QSealC (signatures) for a TPP: writes qwac.pem qwac.key qseal.pem
    /// qseal.key (keys PKCS#8 PEM) and prints the keyId to sign with.
    Issue(CertsIssueArgs),
}

#[derive(Args)]
struct CertsIssueArgs {
    /// The TPP's authorization number, e.g. PSDFR-ACPR-12345 (its client_id).
    #[arg(long)]
    org_id: String,
    /// PSD2 roles, comma-separated: PSP_AI (account information), PSP_IC (funds confirmation),
    /// PSP_PI (payment initiation), PSP_AS.
    #[arg(long)]
    roles: String,
    /// Organization name in the certificates [default: Test TPP <org id>].
    #[arg(long)]
    name: Option<String>,
    /// The NCA, e.g. FR-ACPR [default: from the org id].
    #[arg(long)]
    nca_id: Option<String>,
    /// Validity in days.
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Directory to write the four files to.
    #[arg(long)]
    out: PathBuf,
    /// The sandbox data directory holding the CA (pki/ca.pem, pki/ca.key).
    #[arg(long, default_value = "stetgate-data")]
    data_dir: PathBuf,
}

#[derive(Args)]
struct SandboxArgs {
    /// TOML configuration file (optional in the sandbox).
    #[arg(long, env = "STETGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Where the database and the sandbox PKI live [default: ./stetgate-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite:... or postgres://... [default: SQLite file in the data dir].
    #[arg(long)]
    database_url: Option<String>,
    /// Bank code answering hosts without www.<bankcode>. [default: 17515].
    #[arg(long)]
    default_bank: Option<String>,
    /// Extra QTSP root bundle (PEM) TPP certificates may chain to; repeatable.
    #[arg(long = "trust-anchors")]
    trust_anchors: Vec<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "STETGATE_CONFIG")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mode, file, overrides) = match cli.command {
        Command::Sandbox(a) => (
            Mode::Sandbox,
            a.config,
            Overrides {
                listen: a.listen,
                data_dir: a.data_dir,
                database_url: a.database_url,
                default_bank: a.default_bank,
                trust_anchors: (!a.trust_anchors.is_empty()).then_some(a.trust_anchors),
            },
        ),
        Command::Serve(a) => (Mode::Production, Some(a.config), Overrides::default()),
        Command::Certs(CertsCommand::Issue(a)) => return certs_issue(&a),
        Command::Tpp(command) => return tpp(command),
        Command::Stats(StatsCommand::Export(args)) => return stats_export(&args),
        Command::Outage(command) => return outage(&command),
        Command::Fill(args) => return fill(&args),
        Command::Fallback(FallbackCommand::Report { bank, since, target }) => {
            return fallback_report(bank.as_deref(), since.as_deref(), &target);
        }
    };
    let config = match config::load(mode, file.as_deref(), &overrides) {
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

fn certs_issue(args: &CertsIssueArgs) -> ExitCode {
    use stetgate::sandbox::certs::{CertsRequest, issue};
    let result =
        CertsRequest::parse(&args.org_id, &args.roles, args.name.as_deref(), args.nca_id.as_deref(), args.days)
            .and_then(|request| issue(&args.data_dir, &args.out, &request, jiff::Timestamp::now().as_second()));
    match result {
        Ok(files) => {
            let dir = files.dir.display();
            say!("wrote {dir}/qwac.pem {dir}/qwac.key {dir}/qseal.pem {dir}/qseal.key");
            say!("keyId (URL form):    {}", files.key_id_url);
            say!("keyId (serial form): {}", files.key_id_serial);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stetgate certs issue: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn tpp(command: TppCommand) -> ExitCode {
    let target = match &command {
        TppCommand::Register(a) => &a.target,
        TppCommand::List(t) => t,
        TppCommand::Suspend { target, .. } | TppCommand::Reactivate { target, .. } => target,
    };
    admin_command(target, async |admin, _| match &command {
        TppCommand::Register(args) => tpp_register(admin, args, jiff::Timestamp::now()).await,
        TppCommand::List(_) => tpp_list(admin).await,
        TppCommand::Suspend { org_id, reason, .. } => {
            let org = org_id_arg(org_id)?;
            let now = jiff::Timestamp::now();
            if !admin.store.suspend_registration(&org, reason, now).await.map_err(store_error)? {
                return Err((1, format!("{org} is not registered")));
            }
            say!("{org} suspended: its calls, tokens and refreshes are refused until `stetgate tpp reactivate {org}`");
            Ok(())
        }
        TppCommand::Reactivate { org_id, .. } => {
            let org = org_id_arg(org_id)?;
            if !admin.store.lift_suspension(&org).await.map_err(store_error)? {
                return Err((1, format!("{org} is not registered")));
            }
            say!("{org} reactivated");
            Ok(())
        }
    })
}

fn org_id_arg(text: &str) -> Result<stet::OrgId, (u8, String)> {
    stet::OrgId::parse(text)
        .map_err(|_| (2, format!("{text} is not an organization identifier (e.g. PSDFR-ACPR-12345)")))
}

fn bank_code(text: &str) -> Result<stet::BankCode, (u8, String)> {
    stet::BankCode::parse(text).map_err(|_| (2, format!("{text} is not a bank code (5 digits)")))
}

fn store_error(e: stetgate::store::StoreError) -> (u8, String) {
    (1, e.to_string())
}

fn stats_export(args: &StatsExportArgs) -> ExitCode {
    use stetgate::statistics::{http, report::Period};
    admin_command(&args.target, async |admin, config| {
        let period = Period::parse(&args.quarter).ok_or_else(|| {
            (2, format!("{} is not a quarter like 2026Q4 (or a month 2026-11, a day 2026-11-21)", args.quarter))
        })?;
        let banks = match &args.bank {
            Some(code) => {
                let code = bank_code(code)?;
                vec![
                    admin
                        .store
                        .bank(code)
                        .await
                        .map_err(store_error)?
                        .ok_or((2, format!("bank {code} is not served")))?,
                ]
            }
            None => admin.store.banks().await.map_err(store_error)?,
        };
        let calendar = stetgate::clock::Calendar::paris().map_err(|e| (1, e.to_string()))?;
        let now = jiff::Timestamp::now();
        let deployment = http::Deployment {
            store: &admin.store,
            maintenance: &config.maintenance,
            tz: calendar.time_zone(),
            liveness_tolerance: stetgate::statistics::liveness_tolerance(std::time::Duration::from_secs(
                config.statistics.flush_interval_secs,
            )),
        };
        let mut reports = Vec::new();
        for bank in &banks {
            let report = http::report_for(&deployment, now, bank, &period, &[], None).await.map_err(store_error)?;
            reports.push(report);
        }
        let text = match args.format.as_str() {
            "csv" => http::csv(&reports),
            "json" => serde_json::to_string_pretty(&reports).map_err(|e| (1, e.to_string()))? + "\n",
            other => return Err((2, format!("--format {other}: use csv or json"))),
        };
        match &args.output {
            Some(path) => std::fs::write(path, text).map_err(|e| (1, format!("{}: {e}", path.display()))),
            None => {
                say_raw!("{text}");
                Ok(())
            }
        }
    })
}

/// How far back `outage list` and `fallback report` look by default.
const NINETY_DAYS: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);

fn outage(command: &OutageCommand) -> ExitCode {
    let target = match command {
        OutageCommand::Start { target, .. }
        | OutageCommand::End { target, .. }
        | OutageCommand::List { target, .. } => target,
    };
    admin_command(target, async |admin, _| {
        let now = jiff::Timestamp::now();
        let when = |t: jiff::Timestamp| t.to_string();
        match command {
            OutageCommand::Start { bank, reason, .. } => {
                let outage = admin.store.start_outage(bank_code(bank)?, reason, now).await.map_err(store_error)?;
                say!("bank {bank}: unavailable since {} ({})", when(outage.started_at), outage.reason);
            }
            OutageCommand::End { bank, .. } => {
                if !admin.store.end_outage(bank_code(bank)?, now).await.map_err(store_error)? {
                    return Err((1, format!("bank {bank} has no open outage")));
                }
                say!("bank {bank}: available again since {}", when(now));
            }
            OutageCommand::List { bank, .. } => {
                let outages = admin
                    .store
                    .outages(bank_code(bank)?, now.saturating_sub(NINETY_DAYS).unwrap_or(now), jiff::Timestamp::MAX)
                    .await
                    .map_err(store_error)?;
                for o in outages {
                    let end = o.ended_at.map(when).unwrap_or_else(|| "open".to_owned());
                    say!("{}\t{}\t{}", when(o.started_at), end, o.reason);
                }
            }
        }
        Ok(())
    })
}

/// Accounts per database transaction of `stetgate fill` (bounded memory, visible progress).
const FILL_CHUNK: u64 = 20_000;

fn fill(args: &FillArgs) -> ExitCode {
    admin_command(&args.target, async |admin, _| {
        let bank = bank_code(&args.bank)?;
        if args.accounts > 99_999_999_999 {
            return Err((2, "--accounts: at most 99999999999 (11-digit account numbers)".into()));
        }
        let now = jiff::Timestamp::now();
        if admin.mode == Mode::Sandbox {
            // A fresh data directory: the published banks and personas first, as `sandbox` would.
            stetgate::sandbox::seed(&admin.store, now).await.map_err(|e| (1, e.to_string()))?;
        }
        if admin.store.bank(bank).await.map_err(store_error)?.is_none() {
            return Err((2, format!("bank {bank} is not in this database: configure it and start stetgate once")));
        }
        let calendar = stetgate::clock::Calendar::paris().map_err(|e| (1, e.to_string()))?;
        let plan = stetgate::ledger::fill::FillPlan {
            bank,
            accounts: args.accounts,
            transactions_per_account: args.transactions_per_account,
            large_account_operations: args.large_account_operations,
            today: calendar.date_of(now),
        };
        let started = std::time::Instant::now();
        let mut start = 0;
        while start < plan.accounts {
            let end = (start + FILL_CHUNK).min(plan.accounts);
            let chunk = plan.chunk(start..end).map_err(|e| (1, e))?;
            admin.store.load_ledger(&chunk.psus, &chunk.accounts).await.map_err(store_error)?;
            admin.store.load_transactions(&chunk.transactions).await.map_err(store_error)?;
            start = end;
            eprintln!("stetgate fill: {end} / {} accounts ({:.0} s)", plan.accounts, started.elapsed().as_secs_f64());
        }
        say!(
            "bank {bank}: {} synthetic accounts (PSUs F0000000000 to F{:010}); account 0 has {} operations",
            plan.accounts,
            plan.accounts.saturating_sub(1) / 2,
            plan.large_account_operations
        );
        Ok(())
    })
}

fn fallback_report(bank: Option<&str>, since: Option<&str>, target: &TppTarget) -> ExitCode {
    admin_command(target, async |admin, _| {
        let bank = bank.map(bank_code).transpose()?;
        let calendar = stetgate::clock::Calendar::paris().map_err(|e| (1, e.to_string()))?;
        let since = match since {
            Some(day) => {
                let date: jiff::civil::Date = day.parse().map_err(|_| (2, format!("--since {day}: use YYYY-MM-DD")))?;
                stetgate::statistics::report::day_span(calendar.time_zone(), date)
                    .map(|s| s.0)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            }
            None => jiff::Timestamp::now().saturating_sub(NINETY_DAYS).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        };
        let events = admin.store.fallback_events(bank, since).await.map_err(store_error)?;
        say!("time\tbank\tclient_id\tevent\toutcome\tdetail");
        for e in events {
            let at = e.at.to_string();
            let client = e.client_id.map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned());
            say!("{at}\t{}\t{client}\t{}\t{}\t{}", e.bank, e.event, e.outcome, e.detail);
        }
        Ok(())
    })
}

/// Runs an administration command on the database of the sandbox (`--data-dir`) or of the
/// production configuration (`--config`).
fn admin_command(
    target: &TppTarget,
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
        let now = jiff::Timestamp::now().as_second();
        let admin = match app::admin(mode, &config, target.config.as_deref(), now).await {
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

async fn tpp_register(admin: &app::Admin, args: &TppRegisterArgs, now: jiff::Timestamp) -> Result<(), (u8, String)> {
    use stetgate::registry::{RegistrationRequest, validate_from_files};
    let read = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| (2, format!("{}: {e}", path.display())));
    let request = RegistrationRequest {
        client_name: args.name.clone(),
        redirect_uris: args.redirect_uris.clone(),
        qsealc: read(&args.qseal)?,
        contacts: args.contacts.clone(),
    };
    let registration =
        validate_from_files(&read(&args.qwac)?, &request, &admin.anchors, now, admin.mode == Mode::Sandbox)
            .map_err(|e| (2, e.to_string()))?;
    let store_error = |e: stetgate::store::StoreError| (1, e.to_string());
    let replaced = admin.store.replace_registration(&registration, now).await.map_err(store_error)?;
    if !replaced {
        admin.store.insert_registration(&registration, now).await.map_err(store_error)?;
    }
    say!(
        "{} {} (client_id {}, QSealC SHA-256 {})",
        if replaced { "replaced" } else { "registered" },
        registration.client_name,
        registration.org_id,
        registration.qsealc_sha256
    );
    Ok(())
}

async fn tpp_list(admin: &app::Admin) -> Result<(), (u8, String)> {
    let registrations = admin.store.registrations().await.map_err(|e| (1, e.to_string()))?;
    if registrations.is_empty() {
        say!("no registered TPP");
    }
    for r in registrations {
        let status = match &r.suspension_reason {
            Some(reason) if r.suspended_at.is_some() => format!("suspended ({reason})"),
            _ => r.status().to_owned(),
        };
        say!("{}\t{status}\t{}\t{}\t{}", r.org_id, r.client_name, r.qsealc_sha256, r.redirect_uris.join(" "));
    }
    Ok(())
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
async fn shutdown_signal() {
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
