//! `stetgate outage start|end|list`: declared unavailability of a bank's dedicated interface.

use super::{AdminTarget, NINETY_DAYS, admin_command, bank_code, store_error};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(crate) enum OutageCommand {
    /// Declare the dedicated interface of a bank unavailable from now.
    Start {
        #[arg(long)]
        bank: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Declare it available again.
    End {
        #[arg(long)]
        bank: String,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// List the outages of the last 90 days.
    List {
        #[arg(long)]
        bank: String,
        #[command(flatten)]
        target: AdminTarget,
    },
}

pub(crate) fn run(command: &OutageCommand) -> ExitCode {
    let target = match command {
        OutageCommand::Start { target, .. }
        | OutageCommand::End { target, .. }
        | OutageCommand::List { target, .. } => target,
    };
    admin_command(target, async |admin, _| {
        let now = jiff::Timestamp::now();
        let when = super::instant;
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
