//! Payment initiation's persisted vocabulary: a payment request, its instructions and schedules,
//! the STET statuses and reasons, and the refusals the API answers. A leaf module: the store keeps
//! requests in these terms and `edge/error.rs` maps [`PaymentRefusal`] to statuses.

use crate::ledger::PsuId;
use crate::secret::SecretHash;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use stet::{Amount, ApiVersion, BankCode, Iban, OrgId, ResourceId};

/// `paymentInformationStatus`, as the bank moves it: RCVD (waiting for the PSU) -> ACTC (approved,
/// waiting for the PISP's confirmation) -> ACSP (accepted, executing or waiting for its day) ->
/// ACSC (debited), or RJCT / CANC with a reason; PART when some instructions were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Rcvd,
    Actc,
    Acsp,
    Acsc,
    Part,
    Rjct,
    Canc,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Rcvd,
        PaymentStatus::Actc,
        PaymentStatus::Acsp,
        PaymentStatus::Acsc,
        PaymentStatus::Part,
        PaymentStatus::Rjct,
        PaymentStatus::Canc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Rcvd => "RCVD",
            PaymentStatus::Actc => "ACTC",
            PaymentStatus::Acsp => "ACSP",
            PaymentStatus::Acsc => "ACSC",
            PaymentStatus::Part => "PART",
            PaymentStatus::Rjct => "RJCT",
            PaymentStatus::Canc => "CANC",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Nothing more will happen to the request.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Acsc | PaymentStatus::Part | PaymentStatus::Rjct | PaymentStatus::Canc)
    }
}

/// `transactionStatus` of one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstructionStatus {
    Pdng,
    Acsp,
    Acsc,
    Rjct,
    Canc,
}

impl InstructionStatus {
    pub const ALL: [InstructionStatus; 5] = [
        InstructionStatus::Pdng,
        InstructionStatus::Acsp,
        InstructionStatus::Acsc,
        InstructionStatus::Rjct,
        InstructionStatus::Canc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstructionStatus::Pdng => "PDNG",
            InstructionStatus::Acsp => "ACSP",
            InstructionStatus::Acsc => "ACSC",
            InstructionStatus::Rjct => "RJCT",
            InstructionStatus::Canc => "CANC",
        }
    }

    pub fn parse(text: &str) -> Option<InstructionStatus> {
        InstructionStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// `statusReasonInformation`, for RJCT and CANC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusReason {
    /// The debtor account is unknown or not the PSU's.
    Ac01,
    /// The debtor account is closed.
    Ac04,
    /// The debtor account is blocked.
    Ac06,
    /// The debtor refused, or lacks funds.
    Cust,
    /// Cancelled by the PISP (or the PSU).
    Ds02,
    /// The PSU did not decide in time.
    Noas,
    /// The PSU could not be authenticated (no reason more specific in STET's list).
    Ms03,
}

impl StatusReason {
    pub const ALL: [StatusReason; 7] = [
        StatusReason::Ac01,
        StatusReason::Ac04,
        StatusReason::Ac06,
        StatusReason::Cust,
        StatusReason::Ds02,
        StatusReason::Noas,
        StatusReason::Ms03,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::Ac01 => "AC01",
            StatusReason::Ac04 => "AC04",
            StatusReason::Ac06 => "AC06",
            StatusReason::Cust => "CUST",
            StatusReason::Ds02 => "DS02",
            StatusReason::Noas => "NOAS",
            StatusReason::Ms03 => "MS03",
        }
    }

    pub fn parse(text: &str) -> Option<StatusReason> {
        StatusReason::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A standing order's frequency (ISO 20022 EventFrequency7Code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    EveryTwoWeeks,
    Monthly,
    EveryTwoMonths,
    Quarterly,
    SemiAnnual,
    Annual,
}

impl Frequency {
    pub const ALL: [Frequency; 8] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::EveryTwoWeeks,
        Frequency::Monthly,
        Frequency::EveryTwoMonths,
        Frequency::Quarterly,
        Frequency::SemiAnnual,
        Frequency::Annual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "DAIL",
            Frequency::Weekly => "WEEK",
            Frequency::EveryTwoWeeks => "TOWK",
            Frequency::Monthly => "MNTH",
            Frequency::EveryTwoMonths => "TOMN",
            Frequency::Quarterly => "QUTR",
            Frequency::SemiAnnual => "SEMI",
            Frequency::Annual => "YEAR",
        }
    }

    pub fn parse(text: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The `n`-th date of the schedule starting on `start` (n = 0 is `start`), before shifting:
    /// months keep the start's day, or the month's last day when shorter.
    pub fn nth(self, start: Date, n: i32) -> Option<Date> {
        let span = match self {
            Frequency::Daily => jiff::Span::new().days(n),
            Frequency::Weekly => jiff::Span::new().weeks(n),
            Frequency::EveryTwoWeeks => jiff::Span::new().weeks(2 * n),
            Frequency::Monthly => jiff::Span::new().months(n),
            Frequency::EveryTwoMonths => jiff::Span::new().months(2 * n),
            Frequency::Quarterly => jiff::Span::new().months(3 * n),
            Frequency::SemiAnnual => jiff::Span::new().months(6 * n),
            Frequency::Annual => jiff::Span::new().years(n),
        };
        start.checked_add(span).ok()
    }
}

/// Where a standing order's date goes when it falls on a weekend (`executionRule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionRule {
    /// FWNG: the following working day.
    Following,
    /// PREC: the preceding working day.
    Preceding,
}

impl ExecutionRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionRule::Following => "FWNG",
            ExecutionRule::Preceding => "PREC",
        }
    }

    pub fn parse(text: &str) -> Option<ExecutionRule> {
        match text {
            "FWNG" => Some(ExecutionRule::Following),
            "PREC" => Some(ExecutionRule::Preceding),
            _ => None,
        }
    }

    /// `date`, or the working day the rule moves it to (weekends only: the bank's holiday calendar
    /// is not modelled).
    pub fn apply(self, date: Date) -> Date {
        let step = match self {
            ExecutionRule::Following => 1,
            ExecutionRule::Preceding => -1,
        };
        let mut day = date;
        while matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            match day.checked_add(jiff::Span::new().days(step)) {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        day
    }
}

/// A standing order's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub frequency: Frequency,
    pub rule: ExecutionRule,
    /// The last day it may execute; endless when absent.
    pub end: Option<Date>,
}

impl Schedule {
    /// The execution days from `start` up to `until` (inclusive), shifted by the rule, in order.
    pub fn days(&self, start: Date, until: Date) -> Vec<Date> {
        let mut days = Vec::new();
        for n in 0.. {
            let Some(raw) = self.frequency.nth(start, n) else { break };
            if raw > until || self.end.is_some_and(|end| raw > end) {
                break;
            }
            let shifted = self.rule.apply(raw);
            // A first day moved before the order's start (PREC on a weekend start) is not a day of it.
            if shifted < start {
                continue;
            }
            if shifted <= until && !days.contains(&shifted) {
                days.push(shifted);
            }
        }
        days
    }
}

/// One credit transfer of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub position: i64,
    pub instruction_id: String,
    pub end_to_end_id: Option<String>,
    pub amount: Amount,
    pub creditor_name: String,
    pub creditor_iban: Option<Iban>,
    pub remittance: Vec<String>,
    /// The Paris day it executes (a standing order's first day).
    pub execution_date: Date,
    pub schedule: Option<Schedule>,
    pub status: InstructionStatus,
    pub reason: Option<StatusReason>,
}

/// A payment request as the bank keeps it.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub id: ResourceId,
    pub bank: BankCode,
    pub client_id: OrgId,
    pub payment_information_id: String,
    /// The API version it was posted on (its answers keep that version's forms).
    pub api_version: ApiVersion,
    /// SHA-256 of the posted body: the same id with the same body is the same request.
    pub body_hash: String,
    /// The validated `PaymentRequestResource`, JSON, as posted.
    pub request: String,
    pub status: PaymentStatus,
    pub reason: Option<StatusReason>,
    pub nonce: String,
    pub instant: bool,
    pub batch_booking: bool,
    pub psu: Option<PsuId>,
    pub debtor: Option<ResourceId>,
    pub debtor_iban: Option<Iban>,
    pub success_url: String,
    pub failure_url: Option<String>,
    pub factor_hash: Option<SecretHash>,
    pub factor_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub approval_expires_at: Timestamp,
    pub approved_at: Option<Timestamp>,
    pub confirmed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub version: i64,
    pub instructions: Vec<Instruction>,
}

impl PaymentRequest {
    /// A standing order: one instruction with a schedule.
    pub fn is_standing_order(&self) -> bool {
        self.instructions.iter().any(|i| i.schedule.is_some())
    }

    /// The total of its instructions (one currency: the bank takes euros only).
    pub fn total(&self) -> Option<Amount> {
        let first = self.instructions.first()?;
        let minor = self.instructions.iter().map(|i| i.amount.to_minor().ok()).sum::<Option<i64>>()?;
        Some(Amount::from_minor(minor, first.amount.currency))
    }
}

/// One execution of an instruction (or of a batch, `position` -1) on its due day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub position: i64,
    pub due_date: Date,
    pub booked: bool,
    pub transaction_id: Option<String>,
    pub reason: Option<StatusReason>,
    pub done_at: Option<Timestamp>,
}

/// Why the payment API refuses a call. `edge/error.rs` maps each to its status and, for a 400, the
/// STET reason code sent in `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentRefusal {
    /// 400 `FF01`: not the STET schema, or a value the bank does not take.
    #[error("{0}")]
    Format(String),
    /// 400 `AC01`: a malformed or unknown account.
    #[error("{0}")]
    Account(String),
    /// 400 `RR01`: the debtor account or identification is inconsistent.
    #[error("{0}")]
    Debtor(String),
    /// 400 `RR03`: the creditor's name is missing.
    #[error("{0}")]
    Creditor(String),
    /// 400 `CH03`: the execution date is beyond the bank's horizon.
    #[error("{0}")]
    TooFar(String),
    /// 400 `AM18`: more instructions than the bank takes.
    #[error("{0}")]
    TooMany(String),
    /// 400: no authentication approach the bank offers (it offers REDIRECT).
    #[error(
        "the bank offers the REDIRECT approach only: add REDIRECT to supplementaryData.acceptedAuthenticationApproach"
    )]
    NoApproach,
    /// 404: no such request of this PISP.
    #[error("no payment request {0} of yours at this bank")]
    Unknown(String),
    /// 409: the request is not (or no longer) in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// 403: a change the bank does not allow (the PUT only cancels).
    #[error("{0}")]
    Forbidden(String),
    /// 400: the confirmation's nonce or factor is not the one handed out.
    #[error("{0}")]
    BadConfirmation(String),
    /// 405: not offered on this version.
    #[error("{0}")]
    NotOnThisVersion(String),
}

impl PaymentRefusal {
    /// The bank's reason code for a 400, sent in the `ErrorModel`'s `message`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            PaymentRefusal::Format(_) | PaymentRefusal::BadConfirmation(_) => Some("FF01"),
            PaymentRefusal::Account(_) => Some("AC01"),
            PaymentRefusal::Debtor(_) => Some("RR01"),
            PaymentRefusal::Creditor(_) => Some("RR03"),
            PaymentRefusal::TooFar(_) => Some("CH03"),
            PaymentRefusal::TooMany(_) => Some("AM18"),
            PaymentRefusal::NoApproach => Some("FF01"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn months_keep_the_start_s_day_or_the_month_s_last() {
        assert_eq!(Frequency::Monthly.nth(day("2027-01-31"), 1), Some(day("2027-02-28")));
        assert_eq!(
            Frequency::Monthly.nth(day("2027-01-31"), 2),
            Some(day("2027-03-31")),
            "from the start, not chained"
        );
        assert_eq!(Frequency::Quarterly.nth(day("2026-11-30"), 1), Some(day("2027-02-28")));
        assert_eq!(Frequency::Annual.nth(day("2028-02-29"), 1), Some(day("2029-02-28")));
        assert_eq!(Frequency::EveryTwoWeeks.nth(day("2026-11-23"), 1), Some(day("2026-12-07")));
        assert_eq!(Frequency::Daily.nth(day("2026-11-23"), 0), Some(day("2026-11-23")), "n = 0 is the start");
    }

    #[test]
    fn a_weekend_moves_to_the_following_or_the_preceding_working_day() {
        // Saturday 28 November 2026.
        assert_eq!(ExecutionRule::Following.apply(day("2026-11-28")), day("2026-11-30"));
        assert_eq!(ExecutionRule::Preceding.apply(day("2026-11-28")), day("2026-11-27"));
        assert_eq!(ExecutionRule::Following.apply(day("2026-11-29")), day("2026-11-30"));
        assert_eq!(ExecutionRule::Preceding.apply(day("2026-11-26")), day("2026-11-26"), "a Thursday stays");
    }

    #[test]
    fn a_schedule_lists_its_shifted_days_within_its_end() {
        let monthly = |rule, end: Option<&str>| Schedule { frequency: Frequency::Monthly, rule, end: end.map(day) };
        let until = day("2027-02-28");
        // From Saturday 28 November: 30 Nov (moved), 28 Dec, 28 Jan; 28 Feb is a Sunday moved past `until`.
        let following = monthly(ExecutionRule::Following, None);
        assert_eq!(
            following.days(day("2026-11-28"), until),
            vec![day("2026-11-30"), day("2026-12-28"), day("2027-01-28")]
        );
        // PREC would move the first day before the order's start: not a day of it.
        let preceding = monthly(ExecutionRule::Preceding, None);
        assert_eq!(
            preceding.days(day("2026-11-28"), until),
            vec![day("2026-12-28"), day("2027-01-28"), day("2027-02-26")]
        );
        let ended = monthly(ExecutionRule::Following, Some("2027-01-01"));
        assert_eq!(
            ended.days(day("2026-11-28"), until),
            vec![day("2026-11-30"), day("2026-12-28")],
            "nothing past the end"
        );
        // Daily over a weekend: Saturday and Sunday both move to Monday, which executes once.
        let daily = Schedule { frequency: Frequency::Daily, rule: ExecutionRule::Following, end: None };
        assert_eq!(daily.days(day("2026-11-27"), day("2026-11-30")), vec![day("2026-11-27"), day("2026-11-30")]);
    }
}
