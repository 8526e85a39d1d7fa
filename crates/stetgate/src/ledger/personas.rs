//! The published sandbox of Groupe BPCE's STET APIs: its banks, test people, IBANs and balances,
//! exactly as `shared/sandbox/PERSONAS.md` lists them. Where the published material is silent or
//! inconsistent, the decision taken is marked **decision** here and in `docs/sandbox.md`.

use super::Segment;

/// Each bank code is its own ASPSP with its own customers.
pub struct SeedBank {
    pub code: &'static str,
    pub name: &'static str,
    pub brand: &'static str,
}

const fn bank(code: &'static str, name: &'static str, brand: &'static str) -> SeedBank {
    SeedBank { code, name, brand }
}

const CE: &str = "caisse-epargne";
const BP: &str = "banque-populaire";

/// Every bank code of the published sandbox. Only 17515 and 13807 have customers.
pub const BANKS: &[SeedBank] = &[
    bank("11315", "Caisse d'Epargne CEPAC", CE),
    bank("11425", "Caisse d'Epargne Normandie", CE),
    bank("12135", "Caisse d'Epargne Bourgogne Franche-Comté", CE),
    bank("14445", "Caisse d'Epargne Bretagne Pays de Loire", CE),
    bank("13135", "Caisse d'Epargne Midi-Pyrénées", CE),
    bank("13335", "Caisse d'Epargne Aquitaine Poitou-Charentes", CE),
    bank("13485", "Caisse d'Epargne Languedoc-Roussillon", CE),
    bank("13825", "Caisse d'Epargne Rhône Alpes", CE),
    bank("14265", "Caisse d'Epargne Loire Drôme Ardèche", CE),
    bank("14505", "Caisse d'Epargne Loire-Centre", CE),
    bank("17515", "Caisse d'Epargne Ile-de-France", CE),
    bank("18315", "Caisse d'Epargne Côte d'Azur", CE),
    bank("18715", "Caisse d'Epargne Auvergne Limousin", CE),
    bank("15135", "Caisse d'Epargne Grand Est Europe", CE),
    bank("16275", "Caisse d'Epargne Hauts de France", CE),
    bank("12579", "Banque BCP", "banque-bcp"),
    bank("30258", "BTP Banque", "btp-banque"),
    bank("42559", "Crédit Coopératif", "credit-cooperatif"),
    bank("10807", "Banque Populaire Bourgogne Franche-Comté", BP),
    bank("16807", "Banque Populaire Auvergne Rhône Alpes", BP),
    bank("10207", "Banque Populaire Rives de Paris", BP),
    bank("18707", "Banque Populaire Val de France", BP),
    bank("13507", "Banque Populaire du Nord", BP),
    bank("16607", "Banque Populaire du Sud", BP),
    bank("10907", "Banque Populaire Aquitaine Centre Atlantique", BP),
    bank("14707", "Banque Populaire Alsace Lorraine Champagne", BP),
    bank("17807", "Banque Populaire Occitane", BP),
    bank("13807", "Banque Populaire Grand Ouest", BP),
    bank("14607", "Banque Populaire Méditerranée", BP),
    bank("30007", "Banque Populaire (bank code of the v1.6.2 examples)", BP),
    bank("40978", "Banque Palatine", "palatine"),
    bank("10548", "Banque de Savoie", "banque-de-savoie"),
    bank("18919", "Natixis Wealth Management", "natixis-wm"),
];

/// A test person.
pub struct SeedPsu {
    pub bank: &'static str,
    pub psu_id: &'static str,
    pub display_name: &'static str,
    pub first_name: Option<&'static str>,
    pub last_name: Option<&'static str>,
    pub segment: Segment,
    /// **decision**: the sheet gives no phone numbers; each persona gets a fictitious one
    /// (+33 6 99 99 .. ..), shown masked on the one-time-code page.
    pub phone: &'static str,
}

/// How much history the generator writes for an account (see `generator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// No transaction at all (GET transactions answers 204).
    Empty,
    /// About one operation a week: "a handful" in the 62-day window.
    Few,
    /// About one operation a day.
    Regular,
    /// Four to six operations every day: more than 200 in 62 days.
    Dense,
}

/// A transaction the published material names, placed `days_ago` days before today.
pub struct FixedTransaction {
    pub id: &'static str,
    pub days_ago: i64,
    pub amount_minor: i64,
    pub debit: bool,
    pub booked: bool,
    pub remittance: &'static str,
    /// `None`: derived from the account like the generated ones (deferred card format).
    pub entry_reference: Option<&'static str>,
}

/// A payment account and the persona(s) holding it.
pub struct SeedAccount {
    pub bank: &'static str,
    pub iban: &'static str,
    pub name: &'static str,
    /// Holders, in order, with their STET `psuStatus`.
    pub holders: &'static [(&'static str, &'static str)],
    pub segment: Segment,
    pub balance_minor: i64,
    /// Authorised overdraft, positive.
    pub overdraft_minor: i64,
    pub local_number: Option<&'static str>,
    pub history: History,
    pub status: super::AccountStatus,
    /// Whether the generator may leave recent card debits not booked yet (status OTHR).
    pub generated_pending: bool,
    pub fixed: &'static [FixedTransaction],
}

const HOLDER: &str = "Account Holder";
const CO_HOLDER: &str = "Co-account Holder";

pub const PSUS: &[SeedPsu] = &[
    // Caisse d'Epargne Ile-de-France.
    psu("17515", "9999999901", "LEA SANDBOXA", Some("LEA"), Some("SANDBOXA"), Segment::Retail, "+33699990001"),
    psu("17515", "9999999902", "CLAIRE RECETTEB", Some("CLAIRE"), Some("RECETTEB"), Segment::Retail, "+33699990002"),
    psu("17515", "9999999903", "GEORGES PERSONAC", Some("GEORGES"), Some("PERSONAC"), Segment::Retail, "+33699990003"),
    psu("17515", "9999999904", "GILLES TESTUNID", Some("GILLES"), Some("TESTUNID"), Segment::Retail, "+33699990004"),
    psu("17515", "9999999905", "GILLES TESTUNID", Some("GILLES"), Some("TESTUNID"), Segment::Retail, "+33699990005"),
    // Banque Populaire Grand Ouest: the sheet gives first names only.
    psu("13807", "D0999990I0", "Marc", Some("Marc"), None, Segment::Retail, "+33699990011"),
    psu("13807", "D0999991I0", "Marie", Some("Marie"), None, Segment::Retail, "+33699990012"),
    psu("13807", "D0999980", "Thomas", Some("Thomas"), None, Segment::Retail, "+33699990013"),
    psu("13807", "D0999992I0", "Alix", Some("Alix"), None, Segment::Retail, "+33699990014"),
    psu("13807", "D0999993I0", "Tech'n Co", None, None, Segment::Corporate, "+33699990015"),
    psu("13807", "D0999994I0", "Adam", Some("Adam"), None, Segment::Professional, "+33699990016"),
    // **decision**: Lea (755238649) is a PSU of 13807 whose listed account
    // (FR7617515000920400430518020) lives at 17515; 13807's ledger holds no account for her.
    psu("13807", "755238649", "Lea", Some("Lea"), None, Segment::Retail, "+33699990017"),
    // **addition** (not in the published sandbox): a PSU with a closed and a blocked account, so the
    // funds-confirmation codes AC04 and AC06 can be tried.
    psu("13807", "D0999995I0", "Camille", Some("Camille"), None, Segment::Retail, "+33699990018"),
];

const fn psu(
    bank: &'static str,
    psu_id: &'static str,
    display_name: &'static str,
    first_name: Option<&'static str>,
    last_name: Option<&'static str>,
    segment: Segment,
    phone: &'static str,
) -> SeedPsu {
    SeedPsu { bank, psu_id, display_name, first_name, last_name, segment, phone }
}

/// The published card withdrawal of LEA's first account, verbatim.
const LEA_CARD_WITHDRAWAL: &[FixedTransaction] = &[FixedTransaction {
    id: "LEA-RETRAIT-CARTE",
    days_ago: 3,
    amount_minor: 1300,
    debit: true,
    booked: true,
    remittance: "Retrait Carte",
    entry_reference: Some("751040043051802019-09-08-05.33.46.621234"),
}];

/// **decision**: the 169.95 EUR that separate Marc's booked balance (4,348.95) from the published
/// instant balance (4,179.00): two card payments not booked yet.
const MARC_PENDING_CARD_DEBITS: &[FixedTransaction] = &[
    FixedTransaction {
        id: "MARC-PENDING-1",
        days_ago: 0,
        amount_minor: 12000,
        debit: true,
        booked: false,
        remittance: "CB FNAC NANTES",
        entry_reference: None,
    },
    FixedTransaction {
        id: "MARC-PENDING-2",
        days_ago: 1,
        amount_minor: 4995,
        debit: true,
        booked: false,
        remittance: "CB LEROY MERLIN RENNES",
        entry_reference: None,
    },
];

#[allow(clippy::too_many_arguments)]
const fn account(
    bank: &'static str,
    iban: &'static str,
    name: &'static str,
    holders: &'static [(&'static str, &'static str)],
    segment: Segment,
    balance_minor: i64,
    overdraft_minor: i64,
    local_number: Option<&'static str>,
    history: History,
) -> SeedAccount {
    SeedAccount {
        bank,
        iban,
        name,
        holders,
        segment,
        balance_minor,
        overdraft_minor,
        local_number,
        history,
        status: super::AccountStatus::Open,
        generated_pending: false,
        fixed: &[],
    }
}

pub const ACCOUNTS: &[SeedAccount] = &[
    // LEA SANDBOXA. **decision**: she holds both accounts of the bank's worked example; the
    // second one's balance (245.10) and both overdrafts are ours.
    SeedAccount {
        fixed: LEA_CARD_WITHDRAWAL,
        ..account(
            "17515",
            "FR7617515000920400430518020",
            "LEA SANDBOXA",
            &[("9999999901", HOLDER)],
            Segment::Retail,
            -15000,
            50000,
            None,
            History::Few,
        )
    },
    account(
        "17515",
        "FR7617515000920400851811524",
        "LEA SANDBOXA",
        &[("9999999901", HOLDER)],
        Segment::Retail,
        24510,
        0,
        None,
        History::Few,
    ),
    // CLAIRE RECETTEB: an empty retail account (overdraft 0, no transaction) and a sole-trader one.
    account(
        "17515",
        "FR7617515900000400358074026",
        "CLAIRE RECETTEB",
        &[("9999999902", HOLDER)],
        Segment::Retail,
        0,
        0,
        None,
        History::Empty,
    ),
    account(
        "17515",
        "FR7617515900000800358074006",
        "CLAIRE RECETTEB",
        &[("9999999902", HOLDER)],
        Segment::Professional,
        2376698,
        0,
        None,
        History::Regular,
    ),
    // GEORGES PERSONAC: a joint account with more than 200 operations in 62 days, some not booked.
    SeedAccount {
        generated_pending: true,
        ..account(
            "17515",
            "FR7617515000920400085945890",
            "Mr et Mme GEORGES PERSONAC",
            &[("9999999903", CO_HOLDER)],
            Segment::Retail,
            1000,
            0,
            None,
            History::Dense,
        )
    },
    // GILLES TESTUNID: his own account, a joint "Mr OR Mrs" one, and a joint "Mr AND Mrs" one
    // reached with a second online-banking id.
    account(
        "17515",
        "FR7617515000920440878790811",
        "Mr GILLES TESTUNID",
        &[("9999999904", HOLDER)],
        Segment::Retail,
        1188030,
        0,
        None,
        History::Regular,
    ),
    account(
        "17515",
        "FR7617515000920402428687756",
        "Mr OU Mme GILLES TESTUNID",
        &[("9999999904", CO_HOLDER)],
        Segment::Retail,
        0,
        0,
        None,
        History::Few,
    ),
    account(
        "17515",
        "FR7617515000920402428748381",
        "Mr ET Mme GILLES TESTUNID",
        &[("9999999905", CO_HOLDER)],
        Segment::Retail,
        587922,
        0,
        None,
        History::Few,
    ),
    // Banque Populaire Grand Ouest (funds availability and account information).
    SeedAccount {
        fixed: MARC_PENDING_CARD_DEBITS,
        ..account(
            "13807",
            "FR7613807008043001965405158",
            "Marc",
            &[("D0999990I0", HOLDER)],
            Segment::Retail,
            434895,
            0,
            Some("038-CPT30019654051"),
            History::Few,
        )
    },
    account(
        "13807",
        "FR7613807008043001965405255",
        "Marc",
        &[("D0999990I0", HOLDER)],
        Segment::Retail,
        45956,
        0,
        Some("038-CPT30019654052"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965405352",
        "Marc",
        &[("D0999990I0", HOLDER)],
        Segment::Retail,
        216550,
        0,
        Some("038-CPT30019654053"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965406128",
        "Marie",
        &[("D0999991I0", HOLDER)],
        Segment::Retail,
        175403,
        0,
        Some("038-CPT30019654061"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965406225",
        "Marie",
        &[("D0999991I0", HOLDER)],
        Segment::Retail,
        1142900,
        0,
        Some("038-CPT30019654062"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965407195",
        "Thomas",
        &[("D0999980", HOLDER)],
        Segment::Retail,
        74927,
        0,
        Some("038-CPT30019654071"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965407292",
        "Thomas",
        &[("D0999980", HOLDER)],
        Segment::Retail,
        -2000000,
        0,
        Some("038-CPT30019654072"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965408165",
        "Alix",
        &[("D0999992I0", HOLDER)],
        Segment::Retail,
        5200,
        0,
        Some("038-CPT30019654081"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965408262",
        "Alix",
        &[("D0999992I0", HOLDER)],
        Segment::Retail,
        39545,
        0,
        Some("038-CPT30019654082"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965408359",
        "Alix",
        &[("D0999992I0", HOLDER)],
        Segment::Retail,
        29819,
        0,
        Some("038-CPT30019654083"),
        History::Few,
    ),
    account(
        "13807",
        "FR7613807008043001965409135",
        "Tech'n Co",
        &[("D0999993I0", HOLDER)],
        Segment::Corporate,
        6391700,
        0,
        Some("038-CPT30019654091"),
        History::Regular,
    ),
    // **decision**: Adam's overdrawn professional account has a 3,000 EUR authorised overdraft.
    // **addition**: Camille's open, closed and blocked accounts (valid IBAN checksums).
    account(
        "13807",
        "FR7613807008043001965410105",
        "Camille",
        &[("D0999995I0", HOLDER)],
        Segment::Retail,
        10000,
        0,
        Some("038-CPT30019654101"),
        History::Few,
    ),
    SeedAccount {
        status: super::AccountStatus::Closed,
        ..account(
            "13807",
            "FR7613807008043001965410202",
            "Camille",
            &[("D0999995I0", HOLDER)],
            Segment::Retail,
            0,
            0,
            Some("038-CPT30019654102"),
            History::Empty,
        )
    },
    SeedAccount {
        status: super::AccountStatus::Blocked,
        ..account(
            "13807",
            "FR7613807008043001965410396",
            "Camille",
            &[("D0999995I0", HOLDER)],
            Segment::Retail,
            25000,
            0,
            Some("038-CPT30019654103"),
            History::Few,
        )
    },
    account(
        "13807",
        "FR7613807008063031966574122",
        "Adam",
        &[("D0999994I0", HOLDER)],
        Segment::Professional,
        0,
        0,
        Some("038-CPT30319665741"),
        History::Regular,
    ),
    account(
        "13807",
        "FR7613807008063031966574219",
        "Adam",
        &[("D0999994I0", HOLDER)],
        Segment::Professional,
        -289405,
        300000,
        Some("038-CPT30319665742"),
        History::Regular,
    ),
];

/// The issuer named in bank transaction codes, per brand (the bank's example uses the first).
pub fn transaction_code_issuer(brand: &str) -> &'static str {
    match brand {
        "banque-populaire" => "SI MYSYS – Banque Populaire",
        _ => "SI MYSYS – Caisse d'Epargne",
    }
}

/// The brand of a seeded bank code.
pub fn brand_of(bank: &str) -> &'static str {
    BANKS.iter().find(|b| b.code == bank).map(|b| b.brand).unwrap_or(CE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_seed_iban_is_valid_and_belongs_to_its_bank() {
        for a in ACCOUNTS {
            let iban = stet::Iban::parse(a.iban).unwrap_or_else(|e| panic!("{}: {e}", a.iban));
            assert_eq!(iban.french_bank_code().unwrap().as_str(), a.bank, "{}", a.iban);
        }
    }

    #[test]
    fn every_holder_is_a_persona_of_the_same_bank() {
        let psus: HashSet<(&str, &str)> = PSUS.iter().map(|p| (p.bank, p.psu_id)).collect();
        for a in ACCOUNTS {
            for (holder, _) in a.holders {
                assert!(psus.contains(&(a.bank, *holder)), "{} held by unknown {holder}", a.iban);
            }
        }
    }

    #[test]
    fn bank_codes_are_unique_and_include_the_sandbox_banks() {
        let codes: HashSet<&str> = BANKS.iter().map(|b| b.code).collect();
        assert_eq!(codes.len(), BANKS.len());
        assert!(codes.contains("17515") && codes.contains("13807"));
        for a in ACCOUNTS {
            assert!(codes.contains(a.bank));
        }
    }
}
