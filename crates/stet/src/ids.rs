//! Identifiers on the wire: French bank codes, IBANs and STET resource ids.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("bank code {0:?} is not 5 digits")]
    BankCode(String),
    #[error("{0:?} is not a valid IBAN ({1})")]
    Iban(String, String),
    #[error("organization identifier {0:?} is not of the PSD2 form PSD<country>-<NCA>-<id>, e.g. PSDFR-ACPR-12345")]
    OrgId(String),
    #[error("resource id {0:?} does not match the STET pattern (1 to 35 of a-z A-Z 0-9 space / - ? : ( ) . , ')")]
    ResourceId(String),
}

/// Display, `TryFrom<String>` (through `parse`) and `From<T> for String` for a validated
/// string newtype, so serde's `try_from`/`into` make invalid input fail at the boundary.
macro_rules! string_newtype {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
    };
}

/// A French bank code ("code banque", 5 digits). Each one is its own ASPSP in stetgate: the code in
/// the Host (`www.17515.sandbox...`) selects it, and every row of tenant data is keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BankCode([u8; 5]);

impl BankCode {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bytes = text.as_bytes();
        if bytes.len() == 5 && bytes.iter().all(u8::is_ascii_digit) {
            let mut code = [0u8; 5];
            code.copy_from_slice(bytes);
            Ok(BankCode(code))
        } else {
            Err(IdError::BankCode(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("00000")
    }
}

impl fmt::Display for BankCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BankCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BankCode::parse(s)
    }
}

impl TryFrom<String> for BankCode {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BankCode::parse(&s)
    }
}

impl From<BankCode> for String {
    fn from(code: BankCode) -> String {
        code.as_str().to_owned()
    }
}

/// An IBAN with a valid structure and checksum, kept in its electronic form (no spaces, upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

impl Iban {
    /// Accepts the electronic form and the grouped paper form (`FR76 1751 5000 ...`).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let compact: String = text.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
        use iban::IbanLike;
        match compact.parse::<iban::Iban>() {
            Ok(valid) => Ok(Iban(valid.electronic_str().to_owned())),
            Err(e) => Err(IdError::Iban(text.to_owned(), e.to_string())),
        }
    }

    /// Accepts only the electronic form STET's `AccountIdentification.iban` pattern describes
    /// (`^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$`: no spaces, an upper-case country code), as it comes
    /// in an API request.
    pub fn parse_wire(text: &str) -> Result<Self, IdError> {
        let b = text.as_bytes();
        let shaped = (5..=34).contains(&b.len())
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..4].iter().all(u8::is_ascii_digit)
            && b[4..].iter().all(u8::is_ascii_alphanumeric);
        if !shaped {
            return Err(IdError::Iban(
                text.to_owned(),
                "not in the electronic form (no spaces, upper-case country)".into(),
            ));
        }
        Iban::parse(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// The bank code of a French IBAN (the 5 characters after the check digits).
    pub fn french_bank_code(&self) -> Option<BankCode> {
        if self.country() != "FR" {
            return None;
        }
        self.0.get(4..9).and_then(|s| BankCode::parse(s).ok())
    }

    /// The STET resource id BPCE derives from a French IBAN: the BBAN without its 2-digit RIB key
    /// (bank code 5 + branch code 5 + account number 11), e.g. `FR7617515000920400430518020` ->
    /// `175150009204004305180`.
    pub fn french_resource_id(&self) -> Option<ResourceId> {
        if self.country() != "FR" || self.0.len() != 27 {
            return None;
        }
        ResourceId::parse(&self.0[4..25]).ok()
    }
}

string_newtype!(Iban);

/// A PSD2 organization identifier (ETSI TS 119 495 5.2.1): `PSD` + the NCA's country (2 upper-case
/// letters) + `-` + the NCA's identifier (2 to 8 upper-case letters) + `-` + the PSP's identifier
/// at that NCA, e.g. `PSDFR-ACPR-12345`. It is the TPP's `client_id` at a STET bank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

impl OrgId {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bad = || IdError::OrgId(text.to_owned());
        let rest = text.strip_prefix("PSD").ok_or_else(bad)?;
        let (country, rest) = rest.split_once('-').ok_or_else(bad)?;
        let (nca, psp) = rest.split_once('-').ok_or_else(bad)?;
        let upper = |s: &str| s.bytes().all(|b| b.is_ascii_uppercase());
        let psp_ok =
            (1..=64).contains(&psp.len()) && psp.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if country.len() == 2 && upper(country) && (2..=8).contains(&nca.len()) && upper(nca) && psp_ok {
            Ok(OrgId(text.to_owned()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The NCA country and identifier, e.g. `("FR", "ACPR")`.
    pub fn nca(&self) -> (&str, &str) {
        let rest = &self.0[3..];
        let (country, rest) = rest.split_once('-').unwrap_or(("", rest));
        let nca = rest.split_once('-').map(|(n, _)| n).unwrap_or("");
        (country, nca)
    }
}

string_newtype!(OrgId);

/// A STET `ResourceId` (path ids of accounts, transactions ...):
/// `^([a-zA-Z0-9 /\-?:\()\.,']{1,35})$` in 1.4.0.47.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

impl ResourceId {
    pub const MAX_LEN: usize = 35;

    pub fn parse(text: &str) -> Result<Self, IdError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || " /-?:().,'".contains(c);
        let len = text.chars().count();
        if (1..=Self::MAX_LEN).contains(&len) && text.chars().all(allowed) {
            Ok(ResourceId(text.to_owned()))
        } else {
            Err(IdError::ResourceId(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(ResourceId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_resource_ids_are_the_bban_without_rib_key() {
        for (iban, id) in [
            ("FR7617515000920400430518020", "175150009204004305180"),
            ("FR7617515900000400358074026", "175159000004003580740"),
        ] {
            let iban = Iban::parse(iban).unwrap();
            assert_eq!(iban.french_resource_id().unwrap().as_str(), id);
            assert_eq!(iban.french_bank_code().unwrap().as_str(), "17515");
        }
    }

    #[test]
    fn the_wire_takes_only_the_electronic_form() {
        assert!(Iban::parse_wire("FR7617515000920400430518020").is_ok());
        for bad in
            ["fr7617515000920400430518020", "FR76 1751 5000 9204 0043 0518 020", "FR76175150009204004305180 ", "FR"]
        {
            assert!(Iban::parse_wire(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iban_checksum_and_paper_form() {
        assert!(Iban::parse("FR7617515000920400430518021").is_err(), "bad check digits must be refused");
        let paper = Iban::parse("fr76 1751 5000 9204 0043 0518 020").unwrap();
        assert_eq!(paper.as_str(), "FR7617515000920400430518020");
    }

    #[test]
    fn org_ids_follow_etsi_ts_119_495() {
        let id = OrgId::parse("PSDFR-ACPR-12345").unwrap();
        assert_eq!(id.nca(), ("FR", "ACPR"));
        assert!(OrgId::parse("PSDBE-NBB-0123.456.789").is_ok());
        for bad in [
            "PSDFR-ACPR",
            "psdfr-ACPR-1",
            "PSDF-ACPR-1",
            "PSDFR-A-1",
            "PSDFR-ACPRACPRX-1",
            "PSDFR-ACPR-",
            "XYZFR-ACPR-1",
            "PSDFR-ACPR-1 2",
        ] {
            assert!(OrgId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bank_codes_are_five_digits() {
        assert!(BankCode::parse("17515").is_ok());
        for bad in ["1751", "175150", "1751a", "", "１７５１５"] {
            assert!(BankCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn bank_code_parse_never_panics_and_round_trips(s in "\\PC{0,8}") {
            if let Ok(code) = BankCode::parse(&s) {
                prop_assert_eq!(code.as_str(), s.as_str());
            }
        }

        #[test]
        fn resource_id_accepts_exactly_the_stet_pattern(s in "[a-zA-Z0-9 /?:().,'-]{1,35}") {
            prop_assert!(ResourceId::parse(&s).is_ok());
        }

        #[test]
        fn resource_id_refuses_other_characters(prefix in "[a-z]{0,5}", bad in "[^a-zA-Z0-9 /?:().,'-]", suffix in "[a-z]{0,5}") {
            let text = format!("{prefix}{bad}{suffix}");
            prop_assert!(ResourceId::parse(&text).is_err());
        }

        #[test]
        fn org_id_parse_never_panics_and_accepts_the_form(country in "[A-Z]{2}", nca in "[A-Z]{2,8}", psp in "[A-Za-z0-9]{1,20}", junk in "\\PC{0,30}") {
            let _ = OrgId::parse(&junk);
            let text = format!("PSD{country}-{nca}-{psp}");
            prop_assert_eq!(OrgId::parse(&text).map(|o| o.to_string()), Ok(text));
        }

        #[test]
        fn iban_parse_never_panics(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
        }
    }
}
