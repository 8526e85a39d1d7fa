//! `stetgate fallback report`: the record of fallback uses (RTS art. 33).

use super::{AdminTarget, NINETY_DAYS, admin_command, bank_code, store_error};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(crate) enum FallbackCommand {
    /// Every fallback use (TPP, time, outcome) since a day, tab-separated.
    Report {
        /// Only this bank.
        #[arg(long)]
        bank: Option<String>,
        /// From this day (YYYY-MM-DD, Paris) [default: 90 days ago].
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        target: AdminTarget,
    },
}

pub(crate) fn report(bank: Option<&str>, since: Option<&str>, target: &AdminTarget) -> ExitCode {
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
            let at = super::instant(e.at);
            let client = e.client_id.map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned());
            say!("{at}\t{}\t{client}\t{}\t{}\t{}", e.bank, e.event, e.outcome, e.detail);
        }
        Ok(())
    })
}
