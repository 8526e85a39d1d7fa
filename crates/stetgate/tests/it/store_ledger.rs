//! The store and the built-in ledger, on SQLite and PostgreSQL: every persona, IBAN, balance and
//! resource id of shared/sandbox/PERSONAS.md is served; seeding happens once; the generated
//! transactions meet the published requirements and survive the trip through the database.

use crate::harness::{TestDb, db_tests};
use jiff::ToSpan;
use jiff::civil::Date;
use stet::{BankCode, ResourceId};
use stetgate::ledger::{CreditDebit, DateWindow, Ledger, PsuId, Segment, TransactionStatus};
use stetgate::sandbox::{self, Seeded};
use stetgate::store::Store;

const TODAY: Date = Date::constant(2026, 11, 21);

/// PERSONAS.md, transcribed independently of the seed code: (bank, online-banking id, IBAN,
/// resource id, account name, booked balance).
const PUBLISHED: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("17515", "9999999901", "FR7617515000920400430518020", "175150009204004305180", "LEA SANDBOXA", "-150.00"),
    ("17515", "9999999901", "FR7617515000920400851811524", "175150009204008518115", "LEA SANDBOXA", "245.10"),
    ("17515", "9999999902", "FR7617515900000400358074026", "175159000004003580740", "CLAIRE RECETTEB", "0.00"),
    ("17515", "9999999902", "FR7617515900000800358074006", "175159000008003580740", "CLAIRE RECETTEB", "23766.98"),
    (
        "17515",
        "9999999903",
        "FR7617515000920400085945890",
        "175150009204000859458",
        "Mr et Mme GEORGES PERSONAC",
        "10.00",
    ),
    ("17515", "9999999904", "FR7617515000920440878790811", "175150009204408787908", "Mr GILLES TESTUNID", "11880.30"),
    (
        "17515",
        "9999999904",
        "FR7617515000920402428687756",
        "175150009204024286877",
        "Mr OU Mme GILLES TESTUNID",
        "0.00",
    ),
    (
        "17515",
        "9999999905",
        "FR7617515000920402428748381",
        "175150009204024287483",
        "Mr ET Mme GILLES TESTUNID",
        "5879.22",
    ),
    ("13807", "D0999990I0", "FR7613807008043001965405158", "138070080430019654051", "Marc", "4348.95"),
    ("13807", "D0999990I0", "FR7613807008043001965405255", "138070080430019654052", "Marc", "459.56"),
    ("13807", "D0999990I0", "FR7613807008043001965405352", "138070080430019654053", "Marc", "2165.50"),
    ("13807", "D0999991I0", "FR7613807008043001965406128", "138070080430019654061", "Marie", "1754.03"),
    ("13807", "D0999991I0", "FR7613807008043001965406225", "138070080430019654062", "Marie", "11429.00"),
    ("13807", "D0999980", "FR7613807008043001965407195", "138070080430019654071", "Thomas", "749.27"),
    ("13807", "D0999980", "FR7613807008043001965407292", "138070080430019654072", "Thomas", "-20000.00"),
    ("13807", "D0999992I0", "FR7613807008043001965408165", "138070080430019654081", "Alix", "52.00"),
    ("13807", "D0999992I0", "FR7613807008043001965408262", "138070080430019654082", "Alix", "395.45"),
    ("13807", "D0999992I0", "FR7613807008043001965408359", "138070080430019654083", "Alix", "298.19"),
    ("13807", "D0999993I0", "FR7613807008043001965409135", "138070080430019654091", "Tech'n Co", "63917.00"),
    ("13807", "D0999994I0", "FR7613807008063031966574122", "138070080630319665741", "Adam", "0.00"),
    ("13807", "D0999994I0", "FR7613807008063031966574219", "138070080630319665742", "Adam", "-2894.05"),
];

/// Bank account numbers the 13807 sheet prints.
const LOCAL_NUMBERS: &[(&str, &str)] = &[
    ("FR7613807008043001965405158", "038-CPT30019654051"),
    ("FR7613807008043001965409135", "038-CPT30019654091"),
    ("FR7613807008063031966574219", "038-CPT30319665742"),
];

fn bank(code: &str) -> BankCode {
    BankCode::parse(code).unwrap()
}

fn psu(id: &str) -> PsuId {
    PsuId::parse(id).unwrap()
}

/// A published account, found through its holders as the interface finds it.
async fn account_by_iban(store: &Store, code: &str, iban: &str) -> Option<stetgate::ledger::Account> {
    for &(c, psu_id, ..) in PUBLISHED.iter().filter(|p| p.0 == code) {
        let held = store.psu_accounts(bank(c), &psu(psu_id)).await.unwrap();
        if let Some(h) = held.into_iter().find(|h| h.account.iban.as_str() == iban) {
            return Some(h.account);
        }
    }
    None
}

fn rid(id: &str) -> ResourceId {
    ResourceId::parse(id).unwrap()
}

async fn seeded(db: &TestDb) -> Store {
    let store = db.store().await;
    assert_eq!(sandbox::seed(&store, jiff::Timestamp::UNIX_EPOCH).await.unwrap(), Seeded::Now);
    assert!(sandbox::refresh_transactions(&store, TODAY).await.unwrap());
    store
}

async fn every_published_persona_is_served(db: TestDb) {
    let store = seeded(&db).await;
    for &(code, psu_id, iban, resource_id, name, balance) in PUBLISHED {
        let person = store.psu(bank(code), &psu(psu_id)).await.unwrap().unwrap_or_else(|| panic!("{psu_id} at {code}"));
        assert_eq!(person.bank, bank(code));
        let held = store.psu_accounts(bank(code), &psu(psu_id)).await.unwrap();
        let account = held
            .iter()
            .find(|h| h.account.iban.as_str() == iban)
            .unwrap_or_else(|| panic!("{iban} not listed for {psu_id}"));
        assert_eq!(account.account.resource_id.as_str(), resource_id, "{iban}");
        assert_eq!(account.account.name, name, "{iban}");
        assert_eq!(account.account.currency.as_str(), "EUR");
        assert_eq!(account.account.cash_account_type, "CACC");
        let balances = store.balances_of(bank(code), &rid(resource_id), TODAY).await.unwrap().expect("balances");
        assert_eq!(balances.booked.amount_text(), balance, "{iban}");
        assert_eq!(balances.reference_date, TODAY);
    }
    for &(iban, number) in LOCAL_NUMBERS {
        let account = account_by_iban(&store, "13807", iban).await.expect("a published account");
        assert_eq!(account.local_number.as_deref(), Some(number));
    }
    // Joint accounts are listed with the co-holder status; LEA sees her two accounts in order.
    let georges = store.psu_accounts(bank("17515"), &psu("9999999903")).await.unwrap();
    assert_eq!(georges[0].psu_status, "Co-account Holder");
    let lea = store.psu_accounts(bank("17515"), &psu("9999999901")).await.unwrap();
    assert_eq!(lea.len(), 2);
    assert_eq!(lea[0].psu_status, "Account Holder");
    assert_eq!(lea[0].account.iban.as_str(), "FR7617515000920400430518020");
    // Segments drive history depth and bank transaction codes.
    let techn = account_by_iban(&store, "13807", "FR7613807008043001965409135").await.unwrap();
    assert_eq!(techn.segment, Segment::Corporate);
    let identity = store.psu(bank("17515"), &psu("9999999901")).await.unwrap().unwrap().identity;
    assert_eq!((identity.connected_psu.as_str(), identity.last_name.as_deref()), ("LEA SANDBOXA", Some("SANDBOXA")));
}

async fn lea_of_13807_holds_no_account_there(db: TestDb) {
    let store = seeded(&db).await;
    let lea = store.psu(bank("13807"), &psu("755238649")).await.unwrap();
    assert!(lea.is_some(), "Lea (755238649) is a PSU of 13807");
    assert!(store.psu_accounts(bank("13807"), &psu("755238649")).await.unwrap().is_empty());
    let foreign = "FR7617515000920400430518020";
    assert!(account_by_iban(&store, "13807", foreign).await.is_none(), "a 17515 IBAN is unknown at 13807");
    let home = account_by_iban(&store, "17515", foreign).await.unwrap();
    let balances = store.balances_of(bank("17515"), &home.resource_id, TODAY).await.unwrap().unwrap();
    assert_eq!(balances.booked.amount_text(), "-150.00");
}

async fn one_bank_never_sees_another(db: TestDb) {
    let store = seeded(&db).await;
    assert!(store.psu(bank("13807"), &psu("9999999901")).await.unwrap().is_none());
    assert!(store.balances_of(bank("13807"), &rid("175150009204004305180"), TODAY).await.unwrap().is_none());
    assert!(store.balances_of(bank("11315"), &rid("175150009204004305180"), TODAY).await.unwrap().is_none());
    assert!(store.psu_accounts(bank("13807"), &psu("9999999901")).await.unwrap().is_empty());
    assert!(store.bank(bank("11315")).await.unwrap().is_some(), "every published bank code is an ASPSP");
    assert_eq!(store.banks().await.unwrap().len(), stetgate::ledger::personas::BANKS.len());
}

async fn seeding_is_done_once(db: TestDb) {
    let store = seeded(&db).await;
    let before = store.psu_accounts(bank("17515"), &psu("9999999901")).await.unwrap();
    assert_eq!(sandbox::seed(&store, jiff::Timestamp::from_millisecond(1).unwrap()).await.unwrap(), Seeded::Already);
    assert!(!sandbox::refresh_transactions(&store, TODAY).await.unwrap(), "same day: nothing rewritten");
    let after = store.psu_accounts(bank("17515"), &psu("9999999901")).await.unwrap();
    assert_eq!(before, after);
}

async fn transactions_meet_the_published_requirements(db: TestDb) {
    let store = seeded(&db).await;
    let last_62_days = DateWindow { from: TODAY.saturating_sub(62.days()), to: TODAY.saturating_add(1.days()) };
    let georges = store.transactions(bank("17515"), &rid("175150009204000859458"), last_62_days).await.unwrap();
    assert!(georges.len() > 200, "GEORGES: {} operations", georges.len());
    assert!(georges.iter().any(|t| t.entry_reference.is_none()) && georges.iter().any(|t| t.entry_reference.is_some()));
    assert!(georges.iter().any(|t| t.status == TransactionStatus::Othr && t.booking_date.is_none()));
    assert!(georges.iter().any(|t| t.status == TransactionStatus::Book && t.booking_date.is_some()));
    assert!(georges.windows(2).all(|w| w[0].transaction_date >= w[1].transaction_date), "newest first");
    assert!(georges.iter().all(|t| t.bank_transaction_code.is_none()), "retail: no bank transaction codes");

    let claire = store.transactions(bank("17515"), &rid("175159000004003580740"), last_62_days).await.unwrap();
    assert!(claire.is_empty(), "CLAIRE's retail account has no transaction");
    let overdraft = store.overdraft(bank("17515"), &rid("175159000004003580740")).await.unwrap().unwrap();
    assert_eq!(overdraft.amount_text(), "0.00");

    let pro = store.transactions(bank("17515"), &rid("175159000008003580740"), last_62_days).await.unwrap();
    assert!(
        !pro.is_empty() && pro.iter().all(|t| t.bank_transaction_code.is_some()),
        "professional: codes on every operation"
    );
    let credit = pro.iter().find(|t| t.credit_debit == CreditDebit::Credit).expect("an incoming transfer");
    let code = credit.bank_transaction_code.as_ref().unwrap();
    assert_eq!((code.domain.as_str(), code.family.as_str(), code.sub_family.as_str()), ("PMNT", "RCDT", "ESCT"));

    let lea = store.transactions(bank("17515"), &rid("175150009204004305180"), last_62_days).await.unwrap();
    let withdrawal = lea.iter().find(|t| t.remittance == ["Retrait Carte"]).expect("the published card withdrawal");
    assert_eq!(withdrawal.entry_reference.as_deref(), Some("751040043051802019-09-08-05.33.46.621234"));
    assert_eq!(withdrawal.amount.amount_text(), "13.00");

    // Marc: booked 4,348.95, instant 4,179.00 (169.95 of card debits not booked yet).
    let marc = store.balances_of(bank("13807"), &rid("138070080430019654051"), TODAY).await.unwrap().unwrap();
    assert_eq!(marc.booked.amount_text(), "4348.95");
    assert_eq!(marc.pending_debits.amount_text(), "169.95");
    assert_eq!(marc.instant().amount_text(), "4179.00");
    let marc_second = store.balances_of(bank("13807"), &rid("138070080430019654052"), TODAY).await.unwrap().unwrap();
    assert_eq!(marc_second.instant().amount_text(), "459.56", "nothing pending on Marc's second account");

    // The window is half-open on the transaction date.
    let one_day = DateWindow { from: TODAY.saturating_sub(3.days()), to: TODAY.saturating_sub(2.days()) };
    let day = store.transactions(bank("17515"), &rid("175150009204000859458"), one_day).await.unwrap();
    assert!(!day.is_empty() && day.iter().all(|t| t.transaction_date == TODAY.saturating_sub(3.days())));
}

async fn the_database_returns_what_the_generator_made(db: TestDb) {
    let store = seeded(&db).await;
    let seed = stetgate::ledger::personas::ACCOUNTS.iter().find(|a| a.iban == "FR7613807008063031966574219").unwrap();
    let generated = stetgate::ledger::generator::generate(seed, TODAY);
    let all = DateWindow { from: TODAY.saturating_sub(200.days()), to: TODAY.saturating_add(1.days()) };
    let stored = store.transactions(bank("13807"), &rid("138070080630319665742"), all).await.unwrap();
    assert_eq!(stored, generated, "every field survives the database");
}

async fn a_new_day_rewrites_generated_transactions_keeping_references(db: TestDb) {
    let store = seeded(&db).await;
    let tomorrow = TODAY.saturating_add(1.days());
    let window = DateWindow { from: TODAY.saturating_sub(30.days()), to: tomorrow.saturating_add(1.days()) };
    let account = rid("175150009204000859458");
    let before = store.transactions(bank("17515"), &account, window).await.unwrap();
    assert!(sandbox::refresh_transactions(&store, tomorrow).await.unwrap());
    let after = store.transactions(bank("17515"), &account, window).await.unwrap();
    assert!(after.iter().any(|t| t.transaction_date == tomorrow), "tomorrow's operations appear");
    for old in &before {
        let new = after.iter().find(|t| t.id == old.id).expect("yesterday's operations are still there");
        assert_eq!(new.entry_reference, old.entry_reference, "entryReference is stable from OTHR to BOOK");
    }
}

db_tests!(
    every_published_persona_is_served,
    lea_of_13807_holds_no_account_there,
    one_bank_never_sees_another,
    seeding_is_done_once,
    transactions_meet_the_published_requirements,
    the_database_returns_what_the_generator_made,
    a_new_day_rewrites_generated_transactions_keeping_references,
);
