//! The sandbox's deterministic transaction generator.
//!
//! Operations are a pure function of (account, calendar day): the operations of 2026-11-20 on an
//! account are the same whichever day the sandbox is started, so an operation keeps its id and
//! `entryReference` from the day it appears not booked (OTHR) to the days it is booked (BOOK), as
//! the bank publishes. Only the status depends on today: recent card payments of accounts marked
//! `generated_pending` stay OTHR for two days. The sandbox writes the window
//! `[today - GENERATED_DAYS, today]` and rewrites it when the Paris day changes.
//!
//! What PERSONAS.md requires, and the tests below check: GEORGES has more than 200 operations in
//! 62 days, some without `entryReference`, BOOK and OTHR mixed; CLAIRE's retail account has none;
//! Marc's account carries 169.95 EUR of card debits not booked yet; bank transaction codes appear on
//! every operation of professional and corporate accounts and on no retail one; entryReference
//! lengths follow the operation type (deferred transfer 25, direct debit 30, card 40, other 40).

use super::personas::{FixedTransaction, History, SeedAccount, brand_of, transaction_code_issuer};
use super::{BankTransactionCode, CreditDebit, Segment, Transaction, TransactionStatus};
use jiff::ToSpan;
use jiff::civil::Date;
use stet::{Amount, Currency};

/// How many days before today the sandbox keeps generated operations (covers the 90-day depth).
pub const GENERATED_DAYS: i64 = 95;

/// A small, fast, well-mixed PRNG (SplitMix64): deterministic on every platform, no dependency.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// FNV-1a: a stable hash of the account, so each account has its own sequence.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CardPayment,
    CardWithdrawal,
    DirectDebit,
    TransferOut,
    TransferIn,
}

const MERCHANTS: &[&str] = &[
    "CARREFOUR MARKET",
    "MONOPRIX",
    "SNCF INTERNET",
    "FNAC",
    "PHARMACIE DU CENTRE",
    "BOULANGERIE PAUL",
    "RATP",
    "AMAZON EU",
    "DECATHLON",
    "TOTALENERGIES",
    "PICARD",
    "CINEMA PATHE",
];
const CREDITORS: &[&str] = &["EDF", "ORANGE", "FREE MOBILE", "MAIF", "URSSAF", "ENGIE", "CANAL+", "NAVIGO"];
const PAYEES: &[&str] = &["LOYER M DUPONT", "EPARGNE LIVRET A", "M MARTIN", "SCI DES LILAS", "MME BERNARD"];
const PAYERS: &[&str] = &["SALAIRE ACME SA", "CAF", "CPAM", "REMBOURSEMENT M PETIT", "CLIENT SARL DURAND"];

/// The 14 characters every entryReference of the account starts with: three characters of the
/// bank code and the 11-digit account number (`75104004305180` for LEA's first account, as in the
/// bank's example).
fn reference_prefix(iban: &str) -> String {
    let bank = iban.get(5..8).unwrap_or("000");
    let number = iban.get(14..25).unwrap_or("00000000000");
    format!("{bank}{number}")
}

/// Generates the operations of `account` for one calendar day.
fn day_operations(account: &SeedAccount, day: Date, today: Date) -> Vec<Transaction> {
    let per_day = |rng: &mut SplitMix64| match account.history {
        History::Empty => 0,
        History::Few => u64::from(rng.below(7) == 0),
        History::Regular => rng.below(3),
        History::Dense => 4 + rng.below(3),
    };
    let day_number = i64::from(day.since(Date::constant(2000, 1, 1)).map(|s| s.get_days()).unwrap_or(0));
    let mut rng = SplitMix64(fnv1a(account.iban) ^ (day_number as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let count = per_day(&mut rng);
    let days_ago = today.since(day).map(|s| i64::from(s.get_days())).unwrap_or(0);
    (0..count).map(|seq| operation(account, day, days_ago, seq, &mut rng)).collect()
}

fn operation(account: &SeedAccount, day: Date, days_ago: i64, seq: u64, rng: &mut SplitMix64) -> Transaction {
    let kind = match rng.below(20) {
        0..=7 => Kind::CardPayment,
        8..=9 => Kind::CardWithdrawal,
        10..=12 => Kind::DirectDebit,
        13..=15 => Kind::TransferOut,
        _ => Kind::TransferIn,
    };
    let ddmm = format!("{:02}/{:02}", day.day(), day.month());
    let (minor, remittance) = match kind {
        Kind::CardPayment => (300 + rng.below(11_700) as i64, format!("CB {} {ddmm}", rng.pick(MERCHANTS))),
        Kind::CardWithdrawal => ([2000, 4000, 5000, 6000, 10000][rng.below(5) as usize], format!("RETRAIT DAB {ddmm}")),
        Kind::DirectDebit => (1500 + rng.below(16_500) as i64, format!("PRLV SEPA {}", rng.pick(CREDITORS))),
        Kind::TransferOut => (5000 + rng.below(75_000) as i64, format!("VIR SEPA {}", rng.pick(PAYEES))),
        Kind::TransferIn => (10_000 + rng.below(240_000) as i64, format!("VIR SEPA RECU {}", rng.pick(PAYERS))),
    };
    let prefix = reference_prefix(account.iban);
    let entry_reference = match kind {
        // Deferred transfer: 25 characters.
        Kind::TransferOut => format!("{prefix}{:011}", rng.below(100_000_000_000)),
        // Direct debit: 30 characters (year, day of year, mandate-like suffix).
        Kind::DirectDebit => format!("{prefix}{:04}{:03}G1{:07}", day.year(), day.day_of_year(), rng.below(10_000_000)),
        // Deferred card debit: 40 characters.
        Kind::CardPayment => format!("{prefix}{}{:018}", day.strftime("%Y%m%d"), rng.below(1_000_000_000_000_000_000)),
        // Other operations: 40 characters, the operation's timestamp.
        Kind::CardWithdrawal | Kind::TransferIn => format!(
            "{prefix}{}-{:02}.{:02}.{:02}.{:06}",
            day.strftime("%Y-%m-%d"),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1_000_000)
        ),
    };
    // Corporates get no entryReference; the dense account leaves some out, as the published
    // "entryReference empty" test needs.
    let without_reference =
        account.segment == Segment::Corporate || (account.history == History::Dense && rng.below(6) == 0);
    let pending = account.generated_pending && kind == Kind::CardPayment && days_ago <= 1;
    let credit_debit = if kind == Kind::TransferIn { CreditDebit::Credit } else { CreditDebit::Debit };
    let btc = account.segment.has_bank_transaction_codes().then(|| transaction_code(kind, account.bank));
    Transaction {
        id: format!("{}-{:02}", day.strftime("%Y%m%d"), seq + 1),
        entry_reference: (!without_reference).then_some(entry_reference),
        amount: Amount::from_minor(minor, Currency::EUR),
        credit_debit,
        status: if pending { TransactionStatus::Othr } else { TransactionStatus::Book },
        transaction_date: day,
        booking_date: (!pending).then_some(day),
        value_date: (!pending).then_some(day),
        remittance: vec![remittance],
        bank_transaction_code: btc,
        creditor_name: None,
        debtor_name: None,
    }
}

fn transaction_code(kind: Kind, bank: &str) -> BankTransactionCode {
    let (family, sub_family, code) = match kind {
        Kind::CardPayment => ("CCRD", "POSD", None),
        Kind::CardWithdrawal => ("CCRD", "CWDL", None),
        Kind::DirectDebit => ("IDDT", "ESDD", None),
        Kind::TransferOut => ("ICDT", "ESCT", None),
        // The bank's published example: an incoming SEPA credit transfer, code 05.
        Kind::TransferIn => ("RCDT", "ESCT", Some("05")),
    };
    BankTransactionCode {
        domain: "PMNT".to_owned(),
        family: family.to_owned(),
        sub_family: sub_family.to_owned(),
        code: code.map(str::to_owned),
        issuer: Some(transaction_code_issuer(brand_of(bank)).to_owned()),
    }
}

fn fixed_operation(account: &SeedAccount, fixed: &FixedTransaction, today: Date) -> Transaction {
    let day = today.saturating_sub(fixed.days_ago.days());
    let entry_reference = fixed.entry_reference.map(str::to_owned).unwrap_or_else(|| {
        format!(
            "{}{}{:018}",
            reference_prefix(account.iban),
            day.strftime("%Y%m%d"),
            fnv1a(fixed.id) % 1_000_000_000_000_000_000
        )
    });
    let btc = account.segment.has_bank_transaction_codes().then(|| transaction_code(Kind::CardPayment, account.bank));
    Transaction {
        id: fixed.id.to_owned(),
        entry_reference: Some(entry_reference),
        amount: Amount::from_minor(fixed.amount_minor, Currency::EUR),
        credit_debit: if fixed.debit { CreditDebit::Debit } else { CreditDebit::Credit },
        status: if fixed.booked { TransactionStatus::Book } else { TransactionStatus::Othr },
        transaction_date: day,
        booking_date: fixed.booked.then_some(day),
        value_date: fixed.booked.then_some(day),
        remittance: vec![fixed.remittance.to_owned()],
        bank_transaction_code: btc,
        creditor_name: None,
        debtor_name: None,
    }
}

/// Every operation of `account` from `today - GENERATED_DAYS` to `today`, newest first.
pub fn generate(account: &SeedAccount, today: Date) -> Vec<Transaction> {
    let mut all: Vec<Transaction> = account.fixed.iter().map(|f| fixed_operation(account, f, today)).collect();
    for days_ago in 0..=GENERATED_DAYS {
        all.extend(day_operations(account, today.saturating_sub(days_ago.days()), today));
    }
    all.sort_by(|a, b| b.transaction_date.cmp(&a.transaction_date).then_with(|| a.id.cmp(&b.id)));
    all
}

#[cfg(test)]
mod tests {
    use super::super::personas::ACCOUNTS;
    use super::*;

    fn seed(iban: &str) -> &'static SeedAccount {
        ACCOUNTS.iter().find(|a| a.iban == iban).unwrap()
    }

    fn within(txs: &[Transaction], today: Date, days: i64) -> Vec<&Transaction> {
        let from = today.saturating_sub(days.days());
        txs.iter().filter(|t| t.transaction_date >= from).collect()
    }

    const TODAY: Date = Date::constant(2026, 11, 21);
    const GEORGES: &str = "FR7617515000920400085945890";

    #[test]
    fn same_day_same_output() {
        for a in ACCOUNTS {
            assert_eq!(generate(a, TODAY), generate(a, TODAY), "{}", a.iban);
        }
    }

    #[test]
    fn an_operation_keeps_its_reference_as_days_pass() {
        let yesterday = generate(seed(GEORGES), TODAY.saturating_sub(1.days()));
        let today = generate(seed(GEORGES), TODAY);
        let mut moved_to_book = 0;
        for old in yesterday.iter().filter(|t| t.transaction_date > TODAY.saturating_sub(90.days())) {
            let new = today.iter().find(|t| t.id == old.id).expect("an operation vanished overnight");
            assert_eq!(new.entry_reference, old.entry_reference);
            assert_eq!(new.amount, old.amount);
            if old.status == TransactionStatus::Othr && new.status == TransactionStatus::Book {
                moved_to_book += 1;
            }
        }
        assert!(moved_to_book > 0, "some pending card debits should be booked the day after next");
    }

    #[test]
    fn georges_has_over_200_operations_in_62_days_mixed() {
        for today in [TODAY, Date::constant(2027, 3, 28), Date::constant(2026, 1, 1)] {
            let txs = generate(seed(GEORGES), today);
            let recent = within(&txs, today, 62);
            assert!(recent.len() > 200, "{} operations on {today}", recent.len());
            assert!(recent.iter().any(|t| t.entry_reference.is_none()), "one without entryReference");
            assert!(recent.iter().any(|t| t.entry_reference.is_some()));
            assert!(recent.iter().any(|t| t.status == TransactionStatus::Othr), "some not booked (OTHR)");
            assert!(recent.iter().any(|t| t.status == TransactionStatus::Book));
            assert!(recent.len() <= 500, "the bank answers at most 500 operations");
        }
    }

    #[test]
    fn claire_retail_is_empty_and_lea_has_the_published_withdrawal() {
        assert!(generate(seed("FR7617515900000400358074026"), TODAY).is_empty());
        let lea = generate(seed("FR7617515000920400430518020"), TODAY);
        let w = lea.iter().find(|t| t.remittance == ["Retrait Carte"]).expect("the published withdrawal");
        assert_eq!(w.entry_reference.as_deref(), Some("751040043051802019-09-08-05.33.46.621234"));
        assert_eq!(w.amount.amount_text(), "13.00");
        assert_eq!((w.credit_debit, w.status), (CreditDebit::Debit, TransactionStatus::Book));
        let handful = within(&lea, TODAY, 62).len();
        assert!((1..=25).contains(&handful), "LEA has a handful of operations, not {handful}");
    }

    #[test]
    fn marc_has_exactly_169_95_of_pending_debits() {
        for today in [TODAY, Date::constant(2027, 6, 30)] {
            let txs = generate(seed("FR7613807008043001965405158"), today);
            let pending: i64 = txs
                .iter()
                .filter(|t| t.status == TransactionStatus::Othr && t.credit_debit == CreditDebit::Debit)
                .map(|t| t.amount.to_minor().unwrap())
                .sum();
            assert_eq!(pending, 16995);
        }
    }

    #[test]
    fn bank_transaction_codes_only_on_professional_and_corporate_accounts() {
        for a in ACCOUNTS {
            for t in generate(a, TODAY) {
                assert_eq!(t.bank_transaction_code.is_some(), a.segment != Segment::Retail, "{} {}", a.iban, t.id);
            }
        }
    }

    #[test]
    fn entry_reference_lengths_follow_the_operation_type() {
        for a in ACCOUNTS {
            let prefix = reference_prefix(a.iban);
            for t in generate(a, TODAY) {
                let Some(r) = &t.entry_reference else {
                    continue;
                };
                assert!([25, 30, 40].contains(&r.len()), "{r} has {} characters", r.len());
                if t.id != "LEA-RETRAIT-CARTE" {
                    assert!(r.starts_with(&prefix), "{r} does not start with {prefix}");
                }
                let text = &t.remittance[0];
                let expected = if text.starts_with("VIR SEPA RECU") || text.starts_with("RETRAIT") {
                    40
                } else if text.starts_with("VIR SEPA") {
                    25
                } else if text.starts_with("PRLV") {
                    30
                } else {
                    40
                };
                assert_eq!(r.len(), expected, "{text}: {r}");
            }
            if a.segment == Segment::Corporate {
                assert!(
                    generate(a, TODAY).iter().all(|t| t.entry_reference.is_none()),
                    "corporates get no entryReference"
                );
            }
        }
    }

    #[test]
    fn ids_are_unique_and_valid_stet_resource_ids() {
        for a in ACCOUNTS {
            let txs = generate(a, TODAY);
            let ids: std::collections::HashSet<&str> = txs.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(ids.len(), txs.len(), "{}", a.iban);
            for id in ids {
                assert!(stet::ResourceId::parse(id).is_ok(), "{id}");
            }
        }
    }
}
