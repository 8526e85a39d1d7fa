//! The conformance cases, as a table: each names the bank behaviour it checks and where the bank
//! publishes it: "Portal" is the BPCE developer portal's STET pages (account information v1.4.2 and
//! v1.6.2, funds availability), "Personas" its sandbox persona sheet, "STET" the specification
//! (payment initiation, as docs/pisp.md digests it). The checks themselves are in `aisp.rs`, `cbpii.rs` and `pisp.rs`; [`run`]
//! dispatches a case's step to them. Cases of a suite run in the table's order and may use what
//! earlier ones obtained (a token, the resource ids).

use super::cbpii::Coverage::{Covered, NotCovered};
use super::context::Context;
use super::{aisp, aisp_tokens, cbpii, pisp};
use Step::*;
use Suite::{Aisp, Cbpii, Pisp};

/// The three families of the bank's acceptance tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Suite {
    Aisp,
    Cbpii,
    Pisp,
}

impl Suite {
    pub const ALL: [Suite; 3] = [Suite::Aisp, Suite::Cbpii, Suite::Pisp];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Aisp => "aisp",
            Suite::Cbpii => "cbpii",
            Suite::Pisp => "pisp",
        }
    }

    /// The PSD2 role the TPP's QWAC needs for the suite.
    pub fn role(self) -> eidas::psd2::Role {
        match self {
            Suite::Aisp => eidas::psd2::Role::AccountInformation,
            Suite::Cbpii => eidas::psd2::Role::CardIssuing,
            Suite::Pisp => eidas::psd2::Role::PaymentInitiation,
        }
    }

    pub fn parse(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// With a note on what was seen, when worth saying.
    Pass(String),
    Fail {
        expected: String,
        got: String,
    },
    /// Not run: the profile lacks what it needs, or an earlier case did not obtain it.
    Skip(String),
}

impl Verdict {
    pub fn fail(expected: impl Into<String>, got: impl Into<String>) -> Verdict {
        Verdict::Fail { expected: expected.into(), got: got.into() }
    }

    pub fn skip(why: impl Into<String>) -> Verdict {
        Verdict::Skip(why.into())
    }
}

/// A step's outcome: `Ok(note)` passes, `Err` fails or skips.
pub type Checked = Result<String, Verdict>;

/// Fails with `expected` and what `got` says unless `ok`.
pub fn expect(ok: bool, expected: &str, got: impl FnOnce() -> String) -> Result<(), Verdict> {
    if ok { Ok(()) } else { Err(Verdict::fail(expected, got())) }
}

/// One acceptance test.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub id: &'static str,
    pub suite: Suite,
    pub title: &'static str,
    /// The bank's behaviour, in its words.
    pub behaviour: &'static str,
    /// Where the bank publishes it.
    pub published: &'static str,
    step: Step,
}

/// What a case does (dispatched by [`run`]).
#[derive(Debug, Clone, Copy)]
enum Step {
    AisToken,
    AisAccountsBeforeConsent,
    AisConsent,
    AisAccountsAfterConsent,
    AisBalances,
    AisTransactionsWindow,
    AisBeyondDepth,
    AisManyTransactions,
    AisNoEntryReference,
    AisIdentityShared,
    AisIdentityRefused,
    AisBatchLimit,
    AisRefresh,
    AisReplacedToken,
    AisUnknownToken,
    AisWrongScope,
    AisRefreshRevoked,
    CbToken,
    CbCovered,
    CbNotCovered,
    CbUnknownAccount,
    CbNotGranted,
    CbBadBody,
    CbWrongScope,
    PiToken,
    PiRequest,
    PiReceived,
    PiApproval,
    PiConfirmation,
    PiStatus,
    PiBadAmount,
    PiBadDebtor,
}

/// A row of the table.
const fn case(
    id: &'static str,
    suite: Suite,
    step: Step,
    title: &'static str,
    behaviour: &'static str,
    published: &'static str,
) -> Case {
    Case { id, suite, title, behaviour, published, step }
}

/// Every case, in the order they run.
pub const CASES: &[Case] = &[
    case(
        "AIS-01",
        Aisp,
        AisToken,
        "Token by authorization code",
        "The PSU authorizes on the bank's pages (redirect SCA); the code is exchanged for a Bearer access token and a refresh token, scope aisp.",
        "Portal: Authorization, Token",
    ),
    case(
        "AIS-02",
        Aisp,
        AisAccountsBeforeConsent,
        "GET /accounts without a consent: no links",
        "After PUT /consents with no data, GET /accounts lists every account without resourceId, links or balances.",
        "Portal: Account information, the sequence (1) and PUT /consents",
    ),
    case(
        "AIS-03",
        Aisp,
        AisConsent,
        "PUT /consents answers 201",
        "The TPP records the accounts and data the PSU shares: 201 Created, no body.",
        "Portal: Account information, the sequence (3)",
    ),
    case(
        "AIS-04",
        Aisp,
        AisAccountsAfterConsent,
        "GET /accounts after the consent: resourceId and links",
        "Each consented account carries its resourceId and its balances and transactions links.",
        "Portal: Account information, the sequence (4)",
    ),
    case(
        "AIS-05",
        Aisp,
        AisBalances,
        "Balances: only CLBD, the persona's balance",
        "GET /balances answers the accounting balance only (CLBD), with the amount of the persona sheet.",
        "Portal: Balances; Personas",
    ),
    case(
        "AIS-06",
        Aisp,
        AisTransactionsWindow,
        "Transactions within the history depth",
        "GET /transactions?dateFrom= inside the depth (62 days retail) answers operations dated from dateFrom, status BOOK or OTHR.",
        "Portal: Transactions (depth, statuses)",
    ),
    case(
        "AIS-07",
        Aisp,
        AisBeyondDepth,
        "dateFrom beyond the depth: 400",
        "A dateFrom older than the history depth is refused with HTTP 400 (period out of bound).",
        "Portal: Transactions (depth)",
    ),
    case(
        "AIS-08",
        Aisp,
        AisManyTransactions,
        "A persona with more than 200 operations",
        "GEORGES's joint account lists more than 200 operations over the depth, at most 500, no pagination.",
        "Personas; Portal: Transactions (at most 500)",
    ),
    case(
        "AIS-09",
        Aisp,
        AisNoEntryReference,
        "An operation without entryReference",
        "The published test \"entryReference empty\": at least one operation has no entryReference.",
        "Personas: transactions the sandbox must make possible",
    ),
    case(
        "AIS-10",
        Aisp,
        AisIdentityShared,
        "End-user identity of a consenting PSU: 200",
        "GET /end-user-identity answers the connected PSU when the consent shares psuIdentity.",
        "Portal: End-user identity; Personas (Marc)",
    ),
    case(
        "AIS-11",
        Aisp,
        AisIdentityRefused,
        "End-user identity of a PSU who did not consent: 403",
        "GET /end-user-identity is refused (403) for a PSU who has not agreed to share it (Tech'n Co).",
        "Personas (Tech'n Co)",
    ),
    case(
        "AIS-12",
        Aisp,
        AisBatchLimit,
        "Batch access: 4 calls a day, then 429",
        "Without PSU-IP-Address, at most 4 calls per day per TPP, PSU, account and method; the next one is 429. No limit with PSU-IP-Address.",
        "Portal: Batch limit",
    ),
    case(
        "AIS-13",
        Aisp,
        AisRefresh,
        "Refresh: a new access token, the same refresh token",
        "grant_type=refresh_token answers a new access token and the refresh token sent, unchanged.",
        "Portal: Authorization, Refresh",
    ),
    case(
        "AIS-14",
        Aisp,
        AisReplacedToken,
        "The access token a refresh replaced: 401 invalid_token",
        "At most one valid access token per PSU, TPP and role: the replaced one is refused with 401 invalid_token.",
        "Portal: Authorization, Refresh",
    ),
    case(
        "AIS-15",
        Aisp,
        AisUnknownToken,
        "An unknown or expired token: 401 invalid_token",
        "A token the bank does not honour is answered HTTP 401 with error invalid_token.",
        "Portal: Authorization, Refresh (expired access token)",
    ),
    case(
        "AIS-16",
        Aisp,
        AisWrongScope,
        "An AISP token on funds confirmation: 403 BADS",
        "Funds confirmation with an AISP token is refused with 403 and reason BADS (BadScope).",
        "Portal: Funds confirmation, error codes",
    ),
    case(
        "AIS-17",
        Aisp,
        AisRefreshRevoked,
        "After the scope refusal, the refresh token is revoked",
        "The bank revokes the refresh token after rejecting a request for insufficient scope.",
        "Portal: Authorization, Refresh",
    ),
    case(
        "CB-01",
        Cbpii,
        CbToken,
        "Token by authorization code, scope cbpii",
        "The PSU authorizes the card issuer and ticks its accounts; the code gives a token of scope cbpii (piisp on v1).",
        "Portal: Authorization",
    ),
    case(
        "CB-02",
        Cbpii,
        CbCovered,
        "Amounts the instant balance covers: result true",
        "The answer is based on the instant balance: e.g. up to 4,179 EUR on FR7613807008043001965405158, below 459 EUR on FR7613807008043001965405255.",
        "Personas; Portal: Funds confirmation",
    ),
    case(
        "CB-03",
        Cbpii,
        CbNotCovered,
        "Amounts beyond it: result false",
        "Above 4,179 EUR on FR7613807008043001965405158 cannot be covered, although its booked balance is 4,348.95.",
        "Personas",
    ),
    case(
        "CB-04",
        Cbpii,
        CbUnknownAccount,
        "An IBAN the bank does not hold: AC01",
        "An unknown or foreign-bank IBAN is refused with reason AC01 (IncorrectAccountNumber).",
        "Portal: Funds confirmation, error codes",
    ),
    case(
        "CB-05",
        Cbpii,
        CbNotGranted,
        "An account not chosen at authorization: 403 NGAC",
        "An account of the PSU not consented to is refused with reason NGAC (NotGrantedAccount).",
        "Portal: Funds confirmation, error codes",
    ),
    case(
        "CB-06",
        Cbpii,
        CbBadBody,
        "A body not in the STET format: 400 FF01",
        "A request without paymentCoverageRequestId is refused with reason FF01 (InvalidFileFormat).",
        "Portal: Funds confirmation, error codes",
    ),
    case(
        "CB-07",
        Cbpii,
        CbWrongScope,
        "A CBPII token on account information: 403",
        "A token of another scope is refused with 403 (insufficient scope).",
        "Portal: Authorization, Refresh (insufficient scope)",
    ),
    case(
        "PI-01",
        Pisp,
        PiToken,
        "The PISP's own token: client credentials, scope pisp",
        "grant_type=client_credentials with scope pisp, over mutual TLS with the QWAC.",
        "STET Part II, payment initiation; BPCE PISP 1.6.2 (docs/pisp.md)",
    ),
    case(
        "PI-02",
        Pisp,
        PiRequest,
        "POST /payment-requests: 201 with a consentApproval link",
        "A single SEPA payment answers 201, Location, REDIRECT and _links.consentApproval.",
        "STET Part II, payment initiation; BPCE PISP 1.6.2 (docs/pisp.md)",
    ),
    case(
        "PI-03",
        Pisp,
        PiReceived,
        "Before the PSU's approval: RCVD",
        "The request is received and waits for the PSU (paymentInformationStatus RCVD).",
        "STET Part II, statuses (docs/pisp.md)",
    ),
    case(
        "PI-04",
        Pisp,
        PiApproval,
        "The PSU approves on the bank's pages",
        "The PSU identifies, authenticates (SCA linked to amount and payee) and is sent to successfulReportUrl with psuAuthenticationFactor.",
        "STET Part II, REDIRECT approach (docs/pisp.md)",
    ),
    case(
        "PI-05",
        Pisp,
        PiConfirmation,
        "Confirmation executes the payment",
        "POST /confirmation with the nonce and the factor answers 200 with the payment accepted (ACSP) or settled (ACSC); not on v1.",
        "STET 1.4.2+, confirmation; BPCE PISP 1.6.2 (docs/pisp.md)",
    ),
    case(
        "PI-06",
        Pisp,
        PiStatus,
        "The status read back: accepted or settled",
        "GET /payment-requests/{id} answers ACSP or ACSC, without a confirmation link.",
        "STET Part II, statuses (docs/pisp.md)",
    ),
    case(
        "PI-07",
        Pisp,
        PiBadAmount,
        "An amount with three decimals: 400 FF01",
        "A request that does not follow the format is refused with reason FF01.",
        "STET Part II, reason codes (docs/pisp.md)",
    ),
    case(
        "PI-08",
        Pisp,
        PiBadDebtor,
        "A malformed debtor IBAN: 400 AC01",
        "A debtor account that is not a valid IBAN is refused with reason AC01.",
        "STET Part II, reason codes (docs/pisp.md)",
    ),
];

/// Runs one case's step.
pub async fn run(case: &Case, ctx: &mut Context) -> Verdict {
    let checked = match case.step {
        AisToken => aisp::token(ctx).await,
        Step::AisAccountsBeforeConsent => aisp::accounts_before_consent(ctx).await,
        Step::AisConsent => aisp::consent(ctx).await,
        Step::AisAccountsAfterConsent => aisp::accounts_after_consent(ctx).await,
        Step::AisBalances => aisp::balances(ctx).await,
        Step::AisTransactionsWindow => aisp::transactions_window(ctx).await,
        Step::AisBeyondDepth => aisp::beyond_depth(ctx).await,
        Step::AisManyTransactions => aisp::many_transactions(ctx).await,
        Step::AisNoEntryReference => aisp::no_entry_reference(ctx),
        Step::AisIdentityShared => aisp_tokens::identity_shared(ctx).await,
        Step::AisIdentityRefused => aisp_tokens::identity_refused(ctx).await,
        Step::AisBatchLimit => aisp_tokens::batch_limit(ctx).await,
        Step::AisRefresh => aisp_tokens::refresh(ctx).await,
        Step::AisReplacedToken => aisp_tokens::replaced_token(ctx).await,
        Step::AisUnknownToken => aisp_tokens::unknown_token(ctx).await,
        Step::AisWrongScope => aisp_tokens::wrong_scope(ctx).await,
        Step::AisRefreshRevoked => aisp_tokens::refresh_revoked(ctx).await,
        Step::CbToken => cbpii::token(ctx).await,
        Step::CbCovered => cbpii::coverage(ctx, Covered).await,
        Step::CbNotCovered => cbpii::coverage(ctx, NotCovered).await,
        Step::CbUnknownAccount => cbpii::unknown_account(ctx).await,
        Step::CbNotGranted => cbpii::not_granted(ctx).await,
        Step::CbBadBody => cbpii::bad_body(ctx).await,
        Step::CbWrongScope => cbpii::wrong_scope(ctx).await,
        Step::PiToken => pisp::token(ctx).await,
        Step::PiRequest => pisp::request(ctx).await,
        Step::PiReceived => pisp::received(ctx).await,
        Step::PiApproval => pisp::approval(ctx).await,
        Step::PiConfirmation => pisp::confirmation(ctx).await,
        Step::PiStatus => pisp::status(ctx).await,
        Step::PiBadAmount => pisp::refused(ctx, pisp::Defect::Amount).await,
        Step::PiBadDebtor => pisp::refused(ctx, pisp::Defect::Debtor).await,
    };
    match checked {
        Ok(note) => Verdict::Pass(note),
        Err(verdict) => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_suites_in_order() {
        let mut ids: Vec<&str> = CASES.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CASES.len());
        assert!(CASES.windows(2).all(|w| w[0].suite <= w[1].suite), "each suite's cases together");
    }
}
