//! The authorization server's persisted vocabulary: scopes, authorization codes and token pairs, as the store keeps them. A leaf module: it imports nothing else of `oauth`, so that the
//! store can use it without depending on the authorization server's rules.

use jiff::Timestamp;
use std::fmt;

/// An OAuth scope the bank grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Account information (PSP_AI).
    Aisp,
    /// Funds confirmation, STET 1.4.2 and later (PSP_IC).
    Cbpii,
    /// Funds confirmation, STET 1.4.0.47 ("v1") (PSP_IC).
    Piisp,
    /// Payment initiation (PSP_PI): the PISP's own token (client credentials), or, for the 1.4.2
    /// o-confirmation, a PSU's authorization of one payment request (authorization code).
    Pisp,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Aisp => "aisp",
            Scope::Cbpii => "cbpii",
            Scope::Piisp => "piisp",
            Scope::Pisp => "pisp",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "aisp" => Some(Scope::Aisp),
            "cbpii" => Some(Scope::Cbpii),
            "piisp" => Some(Scope::Piisp),
            "pisp" => Some(Scope::Pisp),
            _ => None,
        }
    }

    /// The PSD2 role a TPP needs for this scope.
    pub fn role(self) -> eidas::psd2::Role {
        match self {
            Scope::Aisp => eidas::psd2::Role::AccountInformation,
            Scope::Cbpii | Scope::Piisp => eidas::psd2::Role::CardIssuing,
            Scope::Pisp => eidas::psd2::Role::PaymentInitiation,
        }
    }

    /// Whether the PSU chooses accounts for a card issuer in this authorization.
    pub fn is_funds(self) -> bool {
        matches!(self, Scope::Cbpii | Scope::Piisp)
    }
}

/// A set of scopes, in a stable order, written space-separated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut scopes: Vec<Scope>) -> Scopes {
        scopes.sort();
        scopes.dedup();
        Scopes(scopes)
    }

    /// Parses a stored or requested scope string; `None` on any unknown scope.
    pub fn parse(text: &str) -> Option<Scopes> {
        let scopes = text.split_ascii_whitespace().map(Scope::parse).collect::<Option<Vec<_>>>()?;
        (!scopes.is_empty()).then(|| Scopes::new(scopes))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Whether two grants concern a common PSD2 role (the one-pair rule applies to them). Payment
    /// tokens are exempt: a PISP holds one per payment in flight.
    pub fn shares_role_with(&self, other: &Scopes) -> bool {
        self.iter().filter(|s| *s != Scope::Pisp).any(|a| other.iter().any(|b| a.role() == b.role()))
    }

    pub fn includes_funds(&self) -> bool {
        self.iter().any(Scope::is_funds)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub bank: stet::BankCode,
    pub client_id: stet::OrgId,
    pub redirect_uri: String,
    pub psu: crate::ledger::PsuId,
    pub scopes: Scopes,
    /// When the PSU's strong authentication behind the code succeeded.
    pub sca_at: Timestamp,
    pub expires_at: Timestamp,
    pub pair_id: Option<String>,
    /// The PKCE challenge (S256) of the authorization, if the TPP sent one.
    pub code_challenge: Option<String>,
    /// The payment request the PSU approved (scope `pisp`: the 1.4.2 o-confirmation).
    pub payment: Option<stet::ResourceId>,
}

/// Whom a token stands for: a PSU who authorized the TPP (authorization code), or the TPP itself
/// (client credentials: its own calls, such as initiating a payment before the PSU approves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Psu(crate::ledger::PsuId),
    Tpp,
}

impl Subject {
    pub fn psu(&self) -> Option<&crate::ledger::PsuId> {
        match self {
            Subject::Psu(psu) => Some(psu),
            Subject::Tpp => None,
        }
    }
}

/// An issued access/refresh token pair (without the tokens, which are only hashed in the store).
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub pair_id: String,
    pub bank: stet::BankCode,
    pub client_id: stet::OrgId,
    pub subject: Subject,
    pub scopes: Scopes,
    pub access_expires_at: Timestamp,
    pub refresh_expires_at: Timestamp,
    pub sca_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The one payment request a PSU's `pisp` token may confirm.
    pub payment: Option<stet::ResourceId>,
    /// When it was last used (noted at most once a minute).
    pub last_used_at: Option<Timestamp>,
}

/// What a valid access token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub pair_id: String,
    pub bank: stet::BankCode,
    pub subject: Subject,
    pub client_id: stet::OrgId,
    pub scopes: Scopes,
    /// The one payment request a PSU's `pisp` token may confirm.
    pub payment: Option<stet::ResourceId>,
    /// The revision of the AIS consent of this PSU and TPP, read with the token pair.
    pub ais_consent: RowRevision,
}

/// The revision of a registration or a consent as a request's authorization query read it: a node
/// trusts the copy it remembers only when it has this revision (every write of the row changes
/// it), so a change made by any node or command is seen at the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRevision {
    /// Not read with this request: the store is asked.
    Unread,
    /// There was no such row.
    Absent,
    At(String),
}

/// What the one query of a resource request's authorization read (`Store::authorization_read`):
/// the pair of the access token presented, and the revisions of the TPP's registration and of the
/// AIS consent the pair stands for.
#[derive(Debug, Clone)]
pub struct AuthorizationRead {
    pub pair: Option<TokenPair>,
    pub registration: RowRevision,
    pub ais_consent: RowRevision,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_order_and_roles() {
        let s = Scopes::parse("cbpii  aisp cbpii").unwrap();
        assert_eq!(s.to_string(), "aisp cbpii");
        assert!(Scopes::parse("aisp extended_transaction_history").is_none());
        assert!(Scopes::parse("").is_none());
        let aisp = Scopes::parse("aisp").unwrap();
        let card = Scopes::parse("piisp").unwrap();
        assert!(!aisp.shares_role_with(&card));
        assert!(card.shares_role_with(&Scopes::parse("cbpii").unwrap()), "piisp and cbpii are one role");
        assert!(s.shares_role_with(&card));
    }
}
