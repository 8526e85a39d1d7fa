//! Execution: an accepted request's instructions go to the payment hub on their Paris day (at once
//! for today's and instant ones), each claimed in the database first so that of all the nodes
//! running the scheduler exactly one executes it; a standing order executes on every day of its
//! schedule. The request's status follows: ACSC once everything is debited, RJCT with the hub's
//! reason, PART when some instructions went through and others not.
//!
//! A hub may answer "pending": the claim stays open until the hub's callback ([`record`]) or, once
//! the claim is [`STALE_CLAIM`] old, the scheduler's poll tells the outcome. The first outcome recorded wins.

use super::model::{Execution, InstructionStatus, PaymentRequest, PaymentStatus, StatusReason};
use crate::ledger::hub::{Credit, Executed, Rejection, Transfer};
use crate::state::AppState;
use crate::store::StoreError;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use stet::{BankCode, ResourceId};

/// A claim left unfinished this long (still pending at the hub, or its node stopped mid-way) is
/// asked about again; longer than a submission can last (two adapter timeouts of at most 60 s).
const STALE_CLAIM: SignedDuration = SignedDuration::from_mins(3);

#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hub(#[from] crate::ledger::LedgerError),
}

/// One pass of the scheduler: requests nobody approved in time are rejected (NOAS), and every
/// accepted request with something due by today is executed. The number of requests touched.
pub async fn run_scheduler(state: &AppState) -> Result<usize, ExecutionError> {
    let now = state.clock.now();
    let mut touched = 0;
    for (bank, id) in state.store.unanswered_payment_requests(now).await? {
        if let Some(p) = state.store.payment_request(bank, &id).await? {
            touched += usize::from(super::expire_if_unanswered(state, p).await?.is_some());
        }
    }
    let today = state.calendar.today(state.clock.as_ref());
    for (bank, id) in state.store.due_payment_requests(today).await? {
        // One bank's hub failing (its circuit open, a timeout) holds up no other request.
        match execute(state, bank, &id).await {
            Ok(()) => touched += 1,
            Err(e) => tracing::warn!(%bank, error = %e, "payment not executed; retried at the next pass"),
        }
    }
    Ok(touched)
}

/// Executes what of request `id` is due today (nothing if it is not accepted), then brings its
/// statuses up to date.
pub async fn execute(state: &AppState, bank: BankCode, id: &ResourceId) -> Result<(), ExecutionError> {
    let Some(p) = state.store.payment_request(bank, id).await? else { return Ok(()) };
    if p.status != PaymentStatus::Acsp {
        return Ok(());
    }
    let Some(debtor) = p.debtor.clone() else { return Ok(()) };
    let now = state.clock.now();
    let today = state.calendar.today(state.clock.as_ref());
    let done = state.store.payment_executions(bank, id).await?;
    let mut due: Vec<(i64, Date)> = Vec::new();
    for (position, day) in due_days(&p, &done, today) {
        if state.store.claim_execution(bank, id, position, day, now).await? {
            due.push((position, day));
        }
    }
    for (position, day) in due {
        let outcome = state.hub.execute(&transfer(&p, &debtor, position, day)).await?;
        finish(state, bank, id, position, day, outcome).await?;
    }
    // A claim still pending at the hub, or that another node left unfinished: its outcome, asked
    // by the same key.
    let before = now.saturating_sub(STALE_CLAIM).unwrap_or(now);
    for (position, day) in state.store.take_stale_claims(bank, id, before, now).await? {
        let outcome = state.hub.poll(&transfer(&p, &debtor, position, day)).await?;
        finish(state, bank, id, position, day, outcome).await?;
    }
    settle(state, bank, id, today).await
}

/// Records the hub's outcome of one claimed execution (nothing while it is pending; nothing if an
/// outcome is already recorded).
async fn finish(
    state: &AppState,
    bank: BankCode,
    id: &ResourceId,
    position: i64,
    day: Date,
    outcome: Executed,
) -> Result<bool, ExecutionError> {
    let (booked, transaction_id, reason) = match outcome {
        Executed::Pending => return Ok(false),
        Executed::Booked { transaction_id } => (true, Some(transaction_id), None),
        Executed::Rejected(why) => (false, None, Some(reason_of(why))),
    };
    let execution =
        Execution { position, due_date: day, booked, transaction_id, reason, done_at: Some(state.clock.now()) };
    Ok(state.store.finish_execution(bank, id, &execution).await?)
}

/// What a hub's callback reports about the transfer of `key`: recorded if that execution is still
/// open, then the request's statuses follow. `Ok(None)` when `key` names no claimed execution
/// stetgate made; `Ok(Some(recorded))` otherwise.
pub async fn record(state: &AppState, key: &str, outcome: Executed) -> Result<Option<bool>, ExecutionError> {
    let Some((bank, id, position, day)) = parse_key(key) else { return Ok(None) };
    let done = state.store.payment_executions(bank, &id).await?;
    if !done.iter().any(|e| e.position == position && e.due_date == day) {
        return Ok(None);
    }
    let recorded = finish(state, bank, &id, position, day, outcome).await?;
    settle(state, bank, &id, state.calendar.today(state.clock.as_ref())).await?;
    Ok(Some(recorded))
}

/// The transfer key's parts: `<bank>/<request id>/<position>/<day>` (a request id may itself hold
/// `/`).
fn parse_key(key: &str) -> Option<(BankCode, ResourceId, i64, Date)> {
    let (bank, rest) = key.split_once('/')?;
    let (rest, day) = rest.rsplit_once('/')?;
    let (id, position) = rest.rsplit_once('/')?;
    Some((BankCode::parse(bank).ok()?, ResourceId::parse(id).ok()?, position.parse().ok()?, day.parse().ok()?))
}

/// The (instruction or batch, day) pairs due by `today` and not executed yet.
fn due_days(p: &PaymentRequest, done: &[Execution], today: Date) -> Vec<(i64, Date)> {
    let executed = |position: i64, day: Date| done.iter().any(|e| e.position == position && e.due_date == day);
    let pending = p.instructions.iter().filter(|i| i.status == InstructionStatus::Acsp);
    if p.batch_booking && !p.is_standing_order() {
        let mut days: Vec<Date> = pending.map(|i| i.execution_date).filter(|d| *d <= today).collect();
        days.sort();
        days.dedup();
        return days.into_iter().filter(|d| !executed(-1, *d)).map(|d| (-1, d)).collect();
    }
    let mut due = Vec::new();
    for i in pending {
        let days = match &i.schedule {
            Some(schedule) => schedule.days(i.execution_date, today),
            None if i.execution_date <= today => vec![i.execution_date],
            None => Vec::new(),
        };
        due.extend(days.into_iter().filter(|d| !executed(i.position, *d)).map(|d| (i.position, d)));
    }
    due
}

/// The transfer of an instruction (or of the batch of `day`'s instructions, position -1).
fn transfer(p: &PaymentRequest, debtor: &ResourceId, position: i64, day: Date) -> Transfer {
    let part: Vec<_> = p
        .instructions
        .iter()
        .filter(|i| if position == -1 { i.execution_date == day } else { i.position == position })
        .collect();
    let credits = part
        .iter()
        .map(|i| Credit {
            creditor_name: i.creditor_name.clone(),
            creditor_iban: i.creditor_iban.clone(),
            amount: i.amount,
            remittance: i.remittance.clone(),
        })
        .collect();
    let key = format!("{}/{}/{position}/{day}", p.bank, p.id);
    Transfer::of_credits(key, p.bank, debtor.clone(), day, p.instant, credits, &p.payment_information_id)
}

fn reason_of(why: Rejection) -> StatusReason {
    match why {
        Rejection::InsufficientFunds => StatusReason::Cust,
        Rejection::Closed => StatusReason::Ac04,
        Rejection::Blocked => StatusReason::Ac06,
        Rejection::UnknownAccount => StatusReason::Ac01,
    }
}

/// Brings the statuses of request `id` in line with its executions (compare-and-set, retried
/// when another node moved the request meanwhile).
async fn settle(state: &AppState, bank: BankCode, id: &ResourceId, today: Date) -> Result<(), ExecutionError> {
    for _ in 0..5 {
        let Some(before) = state.store.payment_request(bank, id).await? else { return Ok(()) };
        if before.status != PaymentStatus::Acsp {
            return Ok(());
        }
        let done = state.store.payment_executions(bank, id).await?;
        let after = settled(&before, &done, today, state.clock.now());
        if after.status == before.status && same_instructions(&before, &after) {
            return Ok(());
        }
        if state.store.update_payment_request(&before, &after).await? {
            return Ok(());
        }
    }
    Ok(())
}

fn same_instructions(a: &PaymentRequest, b: &PaymentRequest) -> bool {
    a.instructions.iter().zip(&b.instructions).all(|(x, y)| x.status == y.status && x.reason == y.reason)
}

/// `p` with the statuses its executions give it.
pub fn settled(p: &PaymentRequest, done: &[Execution], today: Date, now: Timestamp) -> PaymentRequest {
    let mut after = p.clone();
    for i in after.instructions.iter_mut().filter(|i| i.status == InstructionStatus::Acsp) {
        let mine: Vec<&Execution> = done
            .iter()
            .filter(|e| {
                e.done_at.is_some()
                    && (e.position == i.position || (e.position == -1 && e.due_date == i.execution_date))
            })
            .collect();
        match &i.schedule {
            // A standing order runs until its end date has passed; a failed day does not stop it.
            Some(schedule) => {
                if schedule.end.is_some_and(|end| end < today)
                    && schedule.days(i.execution_date, today).len() <= mine.len()
                {
                    i.status = InstructionStatus::Acsc;
                }
            }
            None => match mine.first() {
                Some(e) if e.booked => i.status = InstructionStatus::Acsc,
                Some(e) => {
                    i.status = InstructionStatus::Rjct;
                    i.reason = e.reason;
                }
                None => {}
            },
        }
    }
    let statuses: Vec<InstructionStatus> = after.instructions.iter().map(|i| i.status).collect();
    if !statuses.contains(&InstructionStatus::Acsp) {
        let accepted = statuses.iter().filter(|s| **s == InstructionStatus::Acsc).count();
        after.status = match accepted {
            n if n == statuses.len() => PaymentStatus::Acsc,
            0 => PaymentStatus::Rjct,
            _ => PaymentStatus::Part,
        };
        if after.status == PaymentStatus::Rjct {
            after.reason = after.instructions.iter().find_map(|i| i.reason);
        }
    }
    after.updated_at = now;
    after
}

/// The scheduler every node runs, every `payments.scheduler_interval_secs` (executions are claimed,
/// so running it on several nodes executes each once).
pub fn spawn_scheduler(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(state.config.payments.scheduler_interval_secs);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_scheduler(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(requests = n, "payment requests executed or expired"),
                Err(e) => tracing::warn!(error = %e, "payment scheduler pass failed; retried at the next interval"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_transfer_key_reads_back_even_with_slashes_in_the_request_id() {
        let (bank, id, position, day) = super::parse_key("13807/PR/2026 (a)/-1/2026-11-21").unwrap();
        assert_eq!(
            (bank.as_str(), id.as_str(), position, day.to_string().as_str()),
            ("13807", "PR/2026 (a)", -1, "2026-11-21")
        );
        for bad in ["", "13807", "13807/x/y/2026-11-21", "1380/PR/0/2026-11-21", "13807/PR/0/tomorrow"] {
            assert!(super::parse_key(bad).is_none(), "{bad}");
        }
    }
}
