//! `stet-tpp conformance`: runs a STET bank's published acceptance tests (account information,
//! funds confirmation, payment initiation) against any STET bank URL, with the TPP's certificates,
//! and reports each case with its evidence as text, JUnit XML and one HTML page.
//!
//! ```text
//! stet-tpp conformance --bank 13807                       (a local `stetgate sandbox`)
//! stet-tpp conformance --url https://www.17515.sandbox.api.89c3.com --cacert bank-ca.pem \
//!     --certs tpp --profile my-bank.json --suite aisp,cbpii --report-junit conformance.xml
//! ```
//! Exit codes: 0 every case run passed, 1 a case failed, 2 the run could not start (usage, profile,
//! certificates, the bank unreachable). docs/conformance.md lists the cases and the profile format.

use super::{Bank, Certs, client_config, org_id, read, registered_redirect_uri};
use anyhow::{Context as _, bail};
use clap::Args;
use eidas::psd2::Role;
use std::path::PathBuf;
use std::process::ExitCode;
use stet::ApiVersion;
use stet_tpp::TppClient;

#[path = "conformance/aisp.rs"]
mod aisp;
#[path = "conformance/aisp_tokens.rs"]
mod aisp_tokens;
#[path = "conformance/cases.rs"]
mod cases;
#[path = "conformance/cbpii.rs"]
mod cbpii;
#[path = "conformance/context.rs"]
mod context;
#[path = "conformance/exchange.rs"]
mod exchange;
#[path = "conformance/html.rs"]
mod html;
#[path = "conformance/junit.rs"]
mod junit;
#[path = "conformance/pisp.rs"]
mod pisp;
#[path = "conformance/profile.rs"]
mod profile;
#[path = "conformance/report.rs"]
mod report;

use cases::{CASES, Suite};
use context::{Context, Obtained};
use report::{Outcome, Report};

/// A case failed.
const FAILED: u8 = 1;
/// The run could not start.
const NOT_RUN: u8 = 2;

#[derive(Args)]
pub struct ConformanceArgs {
    #[command(flatten)]
    bank: Bank,
    #[command(flatten)]
    certs: Certs,
    /// The bank's profile, JSON [default: the built-in one of the bank code (17515, 13807)].
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Change one field of the profile, e.g. --set aisp.psu=9999999901 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// The suites to run, comma-separated: aisp, cbpii, pisp [default: those the profile has].
    #[arg(long, value_delimiter = ',')]
    suite: Vec<String>,
    /// The STET version: v1, v1.4.2 or v1.6.2 [default: the profile's].
    #[arg(long)]
    version: Option<String>,
    /// The personas' one-time code [default: the profile's].
    #[arg(long)]
    otp: Option<String>,
    /// The redirect URI to authorize with [default: the profile's, else the first registered].
    #[arg(long)]
    redirect_uri: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    report_junit: Option<PathBuf>,
    /// Also write the results as one self-contained HTML page to this file.
    #[arg(long)]
    report_html: Option<PathBuf>,
    /// Print the profile the run would use (JSON) and exit.
    #[arg(long)]
    print_profile: bool,
    /// List the cases (id, suite, title, where the bank publishes the behaviour) and exit.
    #[arg(long)]
    list: bool,
}

pub async fn run(args: &ConformanceArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        for case in CASES {
            say(&format!("{:<6}  {:<5}  {}  [{}]\n", case.id, case.suite.name(), case.title, case.published));
        }
        return Ok(ExitCode::SUCCESS);
    }
    match prepare(args).await {
        Ok(Prepared::Printed) => Ok(ExitCode::SUCCESS),
        Ok(Prepared::Run(ctx, suites)) => match execute(args, ctx, suites).await {
            Ok(code) => Ok(code),
            Err(e) => not_run(&e),
        },
        Err(e) => not_run(&e),
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not worth a panic.
fn say(text: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}

fn not_run(e: &anyhow::Error) -> anyhow::Result<ExitCode> {
    eprintln!("stet-tpp conformance: {e:#}");
    Ok(ExitCode::from(NOT_RUN))
}

enum Prepared {
    Printed,
    Run(Box<Context>, Vec<Suite>),
}

/// The profile, the client, the TPP's identity and redirect URI, and the suites to run.
async fn prepare(args: &ConformanceArgs) -> anyhow::Result<Prepared> {
    let code = args.bank.bank.clone().or_else(|| args.bank.url.as_deref().and_then(profile::bank_code_of));
    let mut sets = Vec::new();
    for (name, value) in [("version", &args.version), ("otp", &args.otp), ("redirect_uri", &args.redirect_uri)] {
        if let Some(value) = value {
            sets.push(format!("{name}={value}"));
        }
    }
    sets.extend(args.sets.iter().cloned());
    let profile = profile::load(args.profile.as_deref(), code.as_deref(), &sets)?;
    if args.print_profile {
        say(&format!("{}\n", serde_json::to_string_pretty(&profile)?));
        return Ok(Prepared::Printed);
    }
    let version = ApiVersion::from_segment(&profile.version).context("version: v1, v1.4.2 or v1.6.2")?;
    let qwac = eidas::psd2::parse_pem(&read(&args.certs.certs.join("qwac.pem"))?).context("qwac.pem")?;
    let roles: Vec<Role> =
        Role::ALL.into_iter().filter(|r| qwac.psd2.as_ref().is_some_and(|s| s.has_role(*r))).collect();
    let suites = suites(&args.suite, &profile, &roles)?;
    let mut bank = args.bank.clone();
    if bank.url.is_none() && bank.bank.is_none() {
        bank.url = profile.url.clone();
    }
    let client = TppClient::new(client_config(&bank, Some(&args.certs))?)?;
    // Any HTTP answer will do: only a bank that cannot be reached stops the run here.
    if let Err(e) = client.request(reqwest::Method::GET, "/").send().await {
        bail!("cannot reach the bank at {}: {}", client.base_url(), exchange::causes(&e));
    }
    let client_id = org_id(&args.certs)?;
    let redirect_uri = match &profile.redirect_uri {
        Some(uri) => uri.clone(),
        None => registered_redirect_uri(&client, &client_id).await.context("pass --redirect-uri")?,
    };
    let today = jiff::Zoned::now().in_tz("Europe/Paris")?.date();
    let ctx = Context {
        client,
        client_id,
        redirect_uri,
        profile,
        version,
        roles,
        today,
        obtained: Obtained::default(),
        log: Vec::new(),
    };
    Ok(Prepared::Run(Box::new(ctx), suites))
}

/// The suites asked for, else those the profile describes and the QWAC has the role of.
fn suites(asked: &[String], profile: &profile::Profile, roles: &[Role]) -> anyhow::Result<Vec<Suite>> {
    let mut suites = Vec::new();
    for name in asked.iter().filter(|n| !n.trim().is_empty()) {
        suites.push(Suite::parse(name).with_context(|| format!("--suite {name}: aisp, cbpii or pisp"))?);
    }
    if suites.is_empty() {
        let present = [profile.aisp.is_some(), profile.cbpii.is_some(), profile.pisp.is_some()];
        for (suite, _) in Suite::ALL.into_iter().zip(present).filter(|(_, p)| *p) {
            if roles.contains(&suite.role()) {
                suites.push(suite);
            } else {
                let (name, role) = (suite.name(), suite.role().name());
                eprintln!(
                    "stet-tpp conformance: the QWAC has no {role}: {name} is not run (certificates with that role, or --suite {name})"
                );
            }
        }
    }
    suites.sort();
    suites.dedup();
    if suites.is_empty() {
        bail!("nothing to run: no aisp, cbpii or pisp section in the profile with its role in the QWAC");
    }
    Ok(suites)
}

/// Runs the cases of `suites` in order, printing each as it ends; writes the reports.
async fn execute(args: &ConformanceArgs, mut ctx: Box<Context>, suites: Vec<Suite>) -> anyhow::Result<ExitCode> {
    let mut report = Report {
        url: ctx.client.base_url().to_owned(),
        profile: ctx.profile.name.clone(),
        tpp: ctx.client_id.clone(),
        version: ctx.version.segment().to_owned(),
        started: jiff::Timestamp::now().to_string(),
        suites: suites.clone(),
        outcomes: Vec::new(),
    };
    say(&report.header());
    for suite in suites {
        say(&report::suite_heading(suite));
        for case in CASES.iter().filter(|c| c.suite == suite) {
            let started = std::time::Instant::now();
            let verdict = cases::run(case, &mut ctx).await;
            let evidence = std::mem::take(&mut ctx.log);
            let outcome = Outcome { case: *case, verdict, evidence, seconds: started.elapsed().as_secs_f64() };
            say(&report::block(&outcome));
            report.outcomes.push(outcome);
        }
    }
    say(&report.summary());
    if let Some(file) = &args.report_junit {
        std::fs::write(file, junit::render(&report)).with_context(|| file.display().to_string())?;
    }
    if let Some(file) = &args.report_html {
        std::fs::write(file, html::render(&report)).with_context(|| file.display().to_string())?;
    }
    Ok(if report.counts().failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(FAILED) })
}
