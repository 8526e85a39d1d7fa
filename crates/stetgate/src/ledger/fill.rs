//! Synthetic ledger data for growth measurements (`stetgate fill`, docs/performance.md).
//!
//! Deterministic: account `i` of a bank is always the same account (IBAN, balance, holder,
//! operations), whatever the number asked for, so filling 10,000 accounts after 1,000 adds the
//! 9,000 missing ones and filling the same number twice changes nothing. Operations are dated
//! relative to the day of the fill, within the last [`HISTORY_DAYS`] days.
//!
//! - account `i` is `FR.. <bank> 99999 <i, 11 digits> <RIB key>` (branch 99999 is never used by
//!   the personas), a retail current account in EUR;
//! - PSU `F<i / 2, 10 digits>` holds accounts `2k` and `2k + 1`; their one-time code is the
//!   sandbox's, so `stet-tpp bench --psu F0000000000` logs in as the first one;
//! - every account has `transactions_per_account` operations, except account 0, which has
//!   `large_account_operations` (500 by default: the account of the transactions benchmark).

use super::generator::SplitMix64;
use super::{
    Account, AccountStatus, CreditDebit, Psu, PsuId, PsuIdentity, Segment, Transaction, TransactionStatus, Usage,
};
use crate::ledger::LoadAccount;
use jiff::ToSpan;
use jiff::civil::Date;
use std::ops::Range;
use stet::{Amount, BankCode, Currency, Iban, ResourceId};

/// The branch code of every synthetic account.
pub const FILL_BRANCH: &str = "99999";
/// Operations are spread over this many days before the day of the fill.
pub const HISTORY_DAYS: u64 = 60;

/// What to fill.
#[derive(Debug, Clone)]
pub struct FillPlan {
    pub bank: BankCode,
    pub accounts: u64,
    pub transactions_per_account: u32,
    pub large_account_operations: u32,
    pub today: Date,
}

/// One slice of the plan, ready to load.
#[derive(Debug, Default)]
pub struct FillChunk {
    pub psus: Vec<Psu>,
    pub accounts: Vec<LoadAccount>,
    pub transactions: Vec<(BankCode, ResourceId, Vec<Transaction>)>,
}

/// The online-banking id of the holder of account `i`.
pub fn psu_id(account: u64) -> PsuId {
    PsuId::parse(&format!("F{:010}", account / 2)).unwrap_or_else(|| unreachable!("F + 10 digits is a valid PSU id"))
}

/// The IBAN of synthetic account `i` of `bank` (`i` < 10^11).
pub fn iban(bank: BankCode, account: u64) -> Result<Iban, String> {
    let number = format!("{account:011}");
    let rib = rib_key(bank.as_str(), FILL_BRANCH, &number);
    let bban = format!("{}{FILL_BRANCH}{number}{rib:02}", bank.as_str());
    // ISO 13616 check digits: the BBAN followed by "FR00", letters as numbers, mod 97.
    let rearranged = format!("{bban}152700");
    let remainder = rearranged.bytes().fold(0u64, |r, d| (r * 10 + u64::from(d - b'0')) % 97);
    Iban::parse(&format!("FR{:02}{bban}", 98 - remainder)).map_err(|e| e.to_string())
}

/// The French RIB key of an all-digit bank code, branch and account number.
fn rib_key(bank: &str, branch: &str, number: &str) -> u64 {
    let value = |digits: &str| digits.bytes().fold(0u64, |v, d| (v * 10 + u64::from(d - b'0')) % 97);
    97 - (89 * value(bank) + 15 * value(branch) + 3 * value(number)) % 97
}

impl FillPlan {
    /// The PSUs, accounts and operations of accounts `range` (clipped to the plan).
    pub fn chunk(&self, range: Range<u64>) -> Result<FillChunk, String> {
        let range = range.start..range.end.min(self.accounts);
        let mut chunk = FillChunk::default();
        for i in range {
            let holder = psu_id(i);
            if i % 2 == 0 {
                let k = i / 2;
                chunk.psus.push(Psu {
                    bank: self.bank,
                    id: holder.clone(),
                    identity: PsuIdentity {
                        connected_psu: format!("CLIENT SYNTHETIQUE {k}"),
                        name_prefix: None,
                        first_name: Some("CLIENT".into()),
                        last_name: Some(format!("SYNTHETIQUE {k}")),
                    },
                    segment: Segment::Retail,
                    phone: Some(format!("+3360{:07}", k % 10_000_000)),
                    email: None,
                });
            }
            let iban = iban(self.bank, i)?;
            let resource_id = iban.french_resource_id().ok_or_else(|| format!("{iban} has no resource id"))?;
            let mut rng = SplitMix64(i ^ 0x5EED_F111);
            chunk.accounts.push(LoadAccount {
                account: Account {
                    bank: self.bank,
                    resource_id: resource_id.clone(),
                    iban,
                    name: format!("Compte de dépôt {i}"),
                    currency: Currency::EUR,
                    usage: Usage::Priv,
                    cash_account_type: "CACC".into(),
                    segment: Segment::Retail,
                    status: AccountStatus::Open,
                    local_number: None,
                },
                booked_minor: 10_000 + rng.below(500_000) as i64,
                overdraft_minor: [0, 20_000, 50_000][rng.below(3) as usize],
                holders: vec![(holder, "Account Holder".into())],
            });
            let count = if i == 0 { self.large_account_operations } else { self.transactions_per_account };
            let operations = (0..count).map(|j| self.operation(i, j, count, &mut rng)).collect();
            chunk.transactions.push((self.bank, resource_id, operations));
        }
        Ok(chunk)
    }

    fn operation(&self, account: u64, j: u32, count: u32, rng: &mut SplitMix64) -> Transaction {
        // Spread evenly over the history, newest first.
        let days_ago = u64::from(j) * HISTORY_DAYS / u64::from(count.max(1));
        let date = self.today.checked_sub((days_ago as i64).days()).unwrap_or(self.today);
        let credit = rng.below(5) == 0;
        Transaction {
            id: format!("F{account}-{j}"),
            entry_reference: Some(format!("FILL{account:011}{j:06}")),
            amount: Amount::from_minor(100 + rng.below(20_000) as i64, Currency::EUR),
            credit_debit: if credit { CreditDebit::Credit } else { CreditDebit::Debit },
            status: TransactionStatus::Book,
            transaction_date: date,
            booking_date: Some(date),
            value_date: Some(date),
            remittance: vec![if credit { format!("VIR RECU {j}") } else { format!("CB MAGASIN {j}") }],
            bank_transaction_code: None,
            creditor_name: None,
            debtor_name: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(accounts: u64) -> FillPlan {
        FillPlan {
            bank: BankCode::parse("17515").unwrap(),
            accounts,
            transactions_per_account: 2,
            large_account_operations: 500,
            today: jiff::civil::date(2026, 11, 21),
        }
    }

    #[test]
    fn ibans_are_valid_french_ibans_with_their_rib_key() {
        // Iban::parse checks the ISO check digits; the RIB key is checked here.
        for i in [0, 1, 42, 99_999_999_999] {
            let iban = iban(BankCode::parse("17515").unwrap(), i).unwrap();
            let bban = &iban.as_str()[4..];
            assert_eq!(rib_key(&bban[..5], &bban[5..10], &bban[10..21]), bban[21..].parse::<u64>().unwrap());
            assert_eq!(iban.french_bank_code().unwrap().as_str(), "17515");
        }
        // The RIB of a published sandbox persona (FR76 1751 5000 9204 0043 0518 020).
        assert_eq!(rib_key("17515", "00092", "04004305180"), 20);
    }

    #[test]
    fn the_same_account_whatever_the_size_asked() {
        let small = plan(10).chunk(0..10).unwrap();
        let large = plan(1000).chunk(0..10).unwrap();
        let ids = |c: &FillChunk| c.accounts.iter().map(|a| a.account.iban.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&small), ids(&large));
        assert_eq!(small.transactions, large.transactions);
        assert_eq!(small.psus.len(), 5);
        assert_eq!(small.accounts[3].holders[0].0, psu_id(3));
        assert_eq!(psu_id(3).as_str(), "F0000000001");
    }

    #[test]
    fn account_zero_has_the_large_history_within_the_window() {
        let chunk = plan(3).chunk(0..100).unwrap();
        assert_eq!(chunk.accounts.len(), 3, "clipped to the plan");
        let (_, _, zero) = &chunk.transactions[0];
        assert_eq!(zero.len(), 500);
        let oldest = zero.iter().map(|t| t.transaction_date).min().unwrap();
        assert!(oldest >= jiff::civil::date(2026, 9, 22), "{oldest}");
        let ids: std::collections::HashSet<_> = zero.iter().map(|t| &t.id).collect();
        assert_eq!(ids.len(), 500);
        assert_eq!(chunk.transactions[1].2.len(), 2);
    }
}
