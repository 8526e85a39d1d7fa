//! Money on the wire: STET `AmountType {currency, amount}` with the amount as a decimal string
//! (`^-{0,1}[0-9]{1,13}(\.[0-9]{0,5}){0,1}$`). Never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("currency {0:?} is not an ISO 4217 code (three upper-case letters)")]
    Currency(String),
    #[error("amount {0:?} is not a decimal of at most 13 integer and 5 fraction digits")]
    Amount(String),
    #[error("amount {0} does not fit in minor units of {1}")]
    MinorUnits(Decimal, Currency),
}

/// An ISO 4217 alphabetic currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let b = text.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(AmountError::Currency(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point in this currency's minor unit (ISO 4217); 2 unless listed.
    pub fn minor_unit_digits(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "XOF" | "XAF" | "XPF" => 0,
            "BHD" | "KWD" | "OMR" | "TND" | "JOD" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = AmountError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// An amount in a currency. Serialises as `{"amount": "-150.00", "currency": "EUR"}`, always with the
/// currency's minor-unit digits, as the bank sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    pub value: Decimal,
    pub currency: Currency,
}

impl Amount {
    /// Parses the STET amount string.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, AmountError> {
        let bad = || AmountError::Amount(amount.to_owned());
        let digits = amount.strip_prefix('-').unwrap_or(amount);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = (1..=13).contains(&int.len())
            && frac.len() <= 5
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(bad());
        }
        let value = Decimal::from_str(amount).map_err(|_| bad())?;
        Ok(Amount { value, currency })
    }

    /// From an integer count of minor units (cents for EUR), as the store keeps money.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Amount { value: Decimal::new(minor, currency.minor_unit_digits()), currency }
    }

    /// To an integer count of minor units; refuses amounts with more precision than the currency has.
    pub fn to_minor(&self) -> Result<i64, AmountError> {
        let digits = self.currency.minor_unit_digits();
        let scaled = self.value * Decimal::from(10i64.pow(digits));
        if scaled.fract() != Decimal::ZERO {
            return Err(AmountError::MinorUnits(self.value, self.currency));
        }
        i64::try_from(scaled.trunc()).map_err(|_| AmountError::MinorUnits(self.value, self.currency))
    }

    /// The wire text, with exactly the currency's minor-unit digits when it has no more precision.
    pub fn amount_text(&self) -> String {
        let digits = self.currency.minor_unit_digits();
        if self.value.scale() <= digits {
            let mut v = self.value;
            v.rescale(digits);
            v.to_string()
        } else {
            self.value.normalize().to_string()
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_text(), self.currency)
    }
}

#[derive(Serialize, Deserialize)]
struct AmountWire {
    currency: String,
    amount: String,
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AmountWire { currency: self.currency.to_string(), amount: self.amount_text() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = AmountWire::deserialize(d)?;
        let currency = Currency::parse(&wire.currency).map_err(serde::de::Error::custom)?;
        Amount::parse(&wire.amount, currency).map_err(serde::de::Error::custom)
    }
}

/// The STET `AmountType` pattern: up to 13 integer digits and 5 decimals, optionally negative.
pub(crate) const AMOUNT_PATTERN: &str = r"^-?[0-9]{1,13}(\.[0-9]{1,5})?$";

/// `AmountType {currency, amount}` as the bank writes it: the amount a decimal string.
impl utoipa::PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        amount_object(ObjectBuilder::new().schema_type(Type::String).pattern(Some(AMOUNT_PATTERN)).into())
    }
}

impl utoipa::ToSchema for Amount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AmountType")
    }
}

/// `{currency, amount}` with the given schema for `amount`.
pub(crate) fn amount_object(amount: RefOr<Schema>) -> RefOr<Schema> {
    let currency = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Z]{3}$"))
        .description(Some("ISO 4217 currency code"));
    ObjectBuilder::new()
        .property("currency", currency)
        .required("currency")
        .property("amount", amount)
        .required("amount")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_form_keeps_two_digits_for_eur() {
        let a = Amount::from_minor(-15000, Currency::EUR);
        assert_eq!(serde_json::to_value(a).unwrap(), serde_json::json!({"currency": "EUR", "amount": "-150.00"}));
        assert_eq!(Amount::from_minor(0, Currency::EUR).amount_text(), "0.00");
    }

    #[test]
    fn stet_pattern_is_enforced() {
        for bad in ["", "-", "1.234567", "12345678901234", "1e3", "+1", " 1", "1,5", "0x10"] {
            assert!(Amount::parse(bad, Currency::EUR).is_err(), "{bad:?} accepted");
        }
        for good in ["0", "-150.00", "13.", "1234567890123.12345"] {
            assert!(Amount::parse(good, Currency::EUR).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn minor_units_refuse_extra_precision() {
        let a = Amount::parse("1.005", Currency::EUR).unwrap();
        assert!(a.to_minor().is_err());
        assert_eq!(Amount::parse("4348.95", Currency::EUR).unwrap().to_minor().unwrap(), 434895);
    }

    proptest! {
        #[test]
        fn minor_units_round_trip(minor in -10_000_000_000i64..10_000_000_000i64) {
            let a = Amount::from_minor(minor, Currency::EUR);
            prop_assert_eq!(a.to_minor().unwrap(), minor);
            let back = Amount::parse(&a.amount_text(), Currency::EUR).unwrap();
            prop_assert_eq!(back.to_minor().unwrap(), minor);
        }

        #[test]
        fn amount_parse_never_panics(s in "\\PC{0,30}") {
            let _ = Amount::parse(&s, Currency::EUR);
        }
    }
}
