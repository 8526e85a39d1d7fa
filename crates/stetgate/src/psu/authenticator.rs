//! What a bank's strong customer authentication must answer (PSD2 art. 97, RTS art. 4 and 5): the
//! seam between the PSU's journey and the bank's own means (its identity provider, its SMS
//! gateway), chosen per bank like the [`Ledger`](crate::ledger::Ledger).
//!
//! - [`SandboxAuthenticator`]: the sandbox's published behaviour, code `12345678` for every
//!   persona;
//! - [`Unconfigured`]: production until the bank connects its own; it refuses, and the journey
//!   tells the TPP `temporarily_unavailable`;
//! - [`super::gateway::OtpGateway`]: one-time codes delivered by the bank's messaging gateway;
//! - [`super::oidc::OidcProvider`]: the bank's OpenID provider, which authenticates the PSU on its
//!   own pages: a *redirect* authenticator ([`PsuAuthenticator::redirects`]), whose challenge is an
//!   authorization request ([`PsuAuthenticator::authorization_url`]) and whose answer the code the
//!   provider sends back ([`PsuAuthenticator::redeem`]);
//! - [`PerBank`]: the configured one of each bank.

use super::model::{Challenge, ScaMethod};
use crate::ledger::Psu;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use stet::{Amount, BankCode};

/// What the PSU is authenticating for: a payment's amount and payee travel with the challenge so
/// that the authentication is dynamically linked to them (RTS art. 5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeContext {
    pub transaction: Option<TransactionContext>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionContext {
    pub amount: Amount,
    pub payee: String,
}

/// What checking an answer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The PSU is who they say: strong authentication at this instant.
    Verified {
        sca_at: Timestamp,
    },
    Failed,
    /// The bank's own means refuse this PSU for now (too many failures on its side).
    Locked,
}

/// What a redirect authenticator puts in the authorization request it sends the PSU's browser
/// with: values the journey derived from its cookie's secret, so that only that browser can bring
/// the answer back (OpenID Connect Core 3.1.2.1, RFC 7636).
#[derive(Debug, Clone, Copy)]
pub struct RedirectRequest<'a> {
    /// Where the provider sends the PSU back (`https://<bank host>/psu/oidc/callback`).
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    /// The S256 challenge of the journey's PKCE verifier.
    pub code_challenge: &'a str,
    pub context: &'a ChallengeContext,
}

/// The provider's answer, as the callback received it, and what it must match.
#[derive(Debug, Clone, Copy)]
pub struct RedirectAnswer<'a> {
    pub code: &'a str,
    /// The `iss` parameter of the answer (RFC 9207), when the provider sends one.
    pub issuer: Option<&'a str>,
    pub redirect_uri: &'a str,
    pub code_verifier: &'a str,
    pub nonce: &'a str,
    /// When the journey began: an authentication older than this is not this journey's.
    pub asked_at: Timestamp,
    pub context: &'a ChallengeContext,
}

/// What the provider's answer proved.
#[derive(Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// A strong authentication at `sca_at` of the PSU whose online-banking id is `online_banking_id`.
    Verified { online_banking_id: String, sca_at: Timestamp },
    /// No strong authentication: why, in words fit for the log (no personal data, no token).
    Refused(String),
}

impl std::fmt::Debug for Redeemed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Redeemed::Verified { sca_at, .. } => {
                f.debug_struct("Verified").field("sca_at", sca_at).finish_non_exhaustive()
            }
            Redeemed::Refused(why) => f.debug_tuple("Refused").field(why).finish(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthenticatorError {
    #[error("strong customer authentication is not configured for bank {0}")]
    NotConfigured(BankCode),
    #[error("the bank's strong authentication service is unavailable: {0}")]
    Unavailable(String),
    /// The bank holds nowhere to send this PSU's code (no phone, no e-mail address): the journey
    /// goes on without a challenge, as for an unknown id, so that the page tells nothing.
    #[error("the ledger has no {0} for this PSU")]
    NoDestination(&'static str),
}

/// A bank's strong customer authentication.
#[async_trait]
pub trait PsuAuthenticator: Send + Sync + 'static {
    /// Whether PSUs of `bank` can authenticate at all (false: authorizations are answered
    /// `temporarily_unavailable` before any page).
    fn available(&self, bank: BankCode) -> bool;

    /// Whether starting a challenge sends a message (an SMS, an e-mail) that costs the bank and
    /// reaches the PSU: such starts are limited per PSU.
    fn sends_messages(&self, _bank: BankCode) -> bool {
        false
    }

    /// How a code reaches the bank's PSUs, so that the pages name it (SMS unless the bank's
    /// gateway sends e-mails).
    fn code_method(&self, _bank: BankCode) -> ScaMethod {
        ScaMethod::Sms
    }

    /// Starts a challenge for `psu` (sends the code, pushes the notification ...).
    async fn start(
        &self,
        bank: BankCode,
        psu: &Psu,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError>;

    /// Checks the PSU's answer to `challenge`.
    async fn verify(
        &self,
        bank: BankCode,
        psu: &Psu,
        challenge: &Challenge,
        answer: &str,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Verification, AuthenticatorError>;

    /// Whether PSUs of `bank` authenticate on the bank's own pages elsewhere (its identity
    /// provider) instead of identifying and answering a code on stetgate's.
    fn redirects(&self, _bank: BankCode) -> bool {
        false
    }

    /// A redirect authenticator: where to send the PSU's browser.
    async fn authorization_url(
        &self,
        bank: BankCode,
        _request: &RedirectRequest<'_>,
        _now: Timestamp,
    ) -> Result<String, AuthenticatorError> {
        Err(AuthenticatorError::NotConfigured(bank))
    }

    /// A redirect authenticator: what the answer the PSU's browser brought back proves.
    async fn redeem(
        &self,
        bank: BankCode,
        _answer: &RedirectAnswer<'_>,
        _now: Timestamp,
    ) -> Result<Redeemed, AuthenticatorError> {
        Err(AuthenticatorError::NotConfigured(bank))
    }
}

/// The sandbox: every persona's one-time code is `12345678`, "sent" to the persona's phone.
#[derive(Debug, Default)]
pub struct SandboxAuthenticator;

/// The code every sandbox persona receives, as the bank publishes it.
pub const SANDBOX_CODE: &str = "12345678";

/// How long a code is valid.
const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(5);

#[async_trait]
impl PsuAuthenticator for SandboxAuthenticator {
    fn available(&self, _bank: BankCode) -> bool {
        true
    }

    async fn start(
        &self,
        _bank: BankCode,
        psu: &Psu,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError> {
        Ok(Challenge {
            method: ScaMethod::Sms,
            masked_destination: Some(mask_phone(psu.phone.as_deref())),
            expires_at: now.saturating_add(CODE_LIFETIME).unwrap_or(now),
            reference: linked_reference(context),
        })
    }

    async fn verify(
        &self,
        _bank: BankCode,
        _psu: &Psu,
        challenge: &Challenge,
        answer: &str,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Verification, AuthenticatorError> {
        // Dynamic linking (RTS art. 5): a code issued for one amount and payee does not
        // authenticate another.
        let linked = challenge.reference == linked_reference(context);
        let valid = now <= challenge.expires_at && linked && crate::secret::same_secret(answer.trim(), SANDBOX_CODE);
        Ok(if valid { Verification::Verified { sca_at: now } } else { Verification::Failed })
    }
}

/// What a challenge is bound to: nothing for a login, the amount and payee of a payment.
pub(super) fn linked_reference(context: &ChallengeContext) -> String {
    match &context.transaction {
        Some(t) => crate::secret::hash_secret(&format!("{}|{}|{}", t.amount.amount_text(), t.amount.currency, t.payee)),
        None => String::new(),
    }
}

/// Production until the bank connects its own strong authentication: nobody can authenticate.
#[derive(Debug, Default)]
pub struct Unconfigured;

#[async_trait]
impl PsuAuthenticator for Unconfigured {
    fn available(&self, _bank: BankCode) -> bool {
        false
    }

    async fn start(
        &self,
        bank: BankCode,
        _psu: &Psu,
        _context: &ChallengeContext,
        _now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError> {
        Err(AuthenticatorError::NotConfigured(bank))
    }

    async fn verify(
        &self,
        bank: BankCode,
        _psu: &Psu,
        _challenge: &Challenge,
        _answer: &str,
        _context: &ChallengeContext,
        _now: Timestamp,
    ) -> Result<Verification, AuthenticatorError> {
        Err(AuthenticatorError::NotConfigured(bank))
    }
}

/// The authenticator of each bank, as configured; a bank without one cannot authenticate PSUs
/// (`available` is false, as with [`Unconfigured`]).
pub struct PerBank {
    banks: std::collections::BTreeMap<BankCode, std::sync::Arc<dyn PsuAuthenticator>>,
    otherwise: std::sync::Arc<dyn PsuAuthenticator>,
}

impl PerBank {
    pub fn new(
        banks: std::collections::BTreeMap<BankCode, std::sync::Arc<dyn PsuAuthenticator>>,
        otherwise: std::sync::Arc<dyn PsuAuthenticator>,
    ) -> PerBank {
        PerBank { banks, otherwise }
    }

    fn of(&self, bank: BankCode) -> &dyn PsuAuthenticator {
        self.banks.get(&bank).unwrap_or(&self.otherwise).as_ref()
    }
}

#[async_trait]
impl PsuAuthenticator for PerBank {
    fn available(&self, bank: BankCode) -> bool {
        self.of(bank).available(bank)
    }

    fn sends_messages(&self, bank: BankCode) -> bool {
        self.of(bank).sends_messages(bank)
    }

    fn code_method(&self, bank: BankCode) -> ScaMethod {
        self.of(bank).code_method(bank)
    }

    async fn start(
        &self,
        bank: BankCode,
        psu: &Psu,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError> {
        self.of(bank).start(bank, psu, context, now).await
    }

    async fn verify(
        &self,
        bank: BankCode,
        psu: &Psu,
        challenge: &Challenge,
        answer: &str,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Verification, AuthenticatorError> {
        self.of(bank).verify(bank, psu, challenge, answer, context, now).await
    }

    fn redirects(&self, bank: BankCode) -> bool {
        self.of(bank).redirects(bank)
    }

    async fn authorization_url(
        &self,
        bank: BankCode,
        request: &RedirectRequest<'_>,
        now: Timestamp,
    ) -> Result<String, AuthenticatorError> {
        self.of(bank).authorization_url(bank, request, now).await
    }

    async fn redeem(
        &self,
        bank: BankCode,
        answer: &RedirectAnswer<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, AuthenticatorError> {
        self.of(bank).redeem(bank, answer, now).await
    }
}

/// `marie.durand@example.fr` -> `m•••@example.fr`.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}•••@{domain}", local.chars().next().unwrap_or('•')),
        None => "•••".to_owned(),
    }
}

/// `+33612345601` -> `+33 6 •• •• •• 01`.
pub fn mask_phone(phone: Option<&str>) -> String {
    let Some(phone) = phone.filter(|p| p.len() >= 6) else { return "•• •• •• •• ••".to_owned() };
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let last = &digits[digits.len().saturating_sub(2)..];
    if let Some(national) = phone.strip_prefix("+33") {
        let first = national.chars().next().unwrap_or('0');
        format!("+33 {first} •• •• •• {last}")
    } else {
        format!("•• •• •• •• {last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_payment_code_is_bound_to_its_amount_and_payee() {
        let bank = BankCode::parse("13807").unwrap();
        let psu = Psu {
            bank,
            id: crate::ledger::PsuId::parse("D0999995I0").unwrap(),
            identity: crate::ledger::PsuIdentity {
                connected_psu: "CAMILLE".into(),
                name_prefix: None,
                first_name: None,
                last_name: None,
            },
            segment: crate::ledger::Segment::Retail,
            phone: None,
            email: None,
        };
        let pay = |amount: &str, payee: &str| ChallengeContext {
            transaction: Some(TransactionContext {
                amount: Amount::parse(amount, stet::Currency::EUR).unwrap(),
                payee: payee.into(),
            }),
        };
        let now = Timestamp::UNIX_EPOCH;
        let sandbox = SandboxAuthenticator;
        let challenge = sandbox.start(bank, &psu, &pay("42.00", "Bakery"), now).await.unwrap();
        let verify = async |context: &ChallengeContext| {
            sandbox.verify(bank, &psu, &challenge, SANDBOX_CODE, context, now).await.unwrap()
        };
        assert!(matches!(verify(&pay("42.00", "Bakery")).await, Verification::Verified { .. }));
        assert_eq!(verify(&pay("4200.00", "Bakery")).await, Verification::Failed, "another amount");
        assert_eq!(verify(&pay("42.00", "Mallory")).await, Verification::Failed, "another payee");
        assert_eq!(verify(&ChallengeContext::default()).await, Verification::Failed, "a login code");
    }

    #[test]
    fn email_addresses_are_masked() {
        assert_eq!(mask_email("marie.durand@example.fr"), "m•••@example.fr");
        assert_eq!(mask_email("nobody"), "•••");
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone(Some("+33612345601")), "+33 6 •• •• •• 01");
        assert_eq!(mask_phone(None), "•• •• •• •• ••");
    }
}
