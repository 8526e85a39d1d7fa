//! `stetgate stats export`: a period's statistics per bank, day and endpoint family (RTS art. 32).

use super::{AdminTarget, admin_command, bank_code, store_error};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(crate) enum StatsCommand {
    /// Export a period's statistics per bank, day and endpoint family.
    Export(StatsExportArgs),
}

#[derive(Args)]
pub(crate) struct StatsExportArgs {
    /// The quarter, e.g. 2026Q4 (a month 2026-11 or a day 2026-11-21 work too).
    #[arg(long)]
    pub(crate) quarter: String,
    /// One bank code [default: every bank of the deployment].
    #[arg(long)]
    pub(crate) bank: Option<String>,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    pub(crate) format: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) target: AdminTarget,
}

pub(crate) fn export(args: &StatsExportArgs) -> ExitCode {
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
