//! One-time codes through the bank's messaging gateway (`[otp_gateway."<bank>"]`): stetgate draws
//! the code, keeps only a salted hash of it (bound to a payment's amount and payee, RTS art. 5) in
//! the challenge, and asks the bank's gateway to deliver it by SMS.
//!
//! The call: `POST <url>` with a JSON body `{bank, psu, channel, destination, message, expires_at,
//! reference}`, `Idempotency-Key: <reference>` (the same on each retry), authenticated by mutual
//! TLS and/or `X-Stetgate-Signature: t=<unix seconds>,hmac-sha256=<hex>` over `<t>.<body>`. Any 2xx
//! is a delivery; a timeout, a 408, 429 or 5xx is retried (`retries` times, 250 ms then doubling);
//! anything else fails at once. A failure is logged (never the code) and the PSU gets the bank's
//! "unavailable" page. Attempts and expiry are the journey's (`psu::`), as for every authenticator.

use super::authenticator::{AuthenticatorError, ChallengeContext, PsuAuthenticator, Verification, linked_reference};
use super::model::{Challenge, ScaMethod};
use crate::config::{OtpChannel, OtpGatewayConfig};
use crate::ledger::Psu;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use stet::BankCode;

/// A bank's messaging gateway, ready to call.
pub struct OtpGateway {
    config: OtpGatewayConfig,
    bank_name: String,
    http: reqwest::Client,
    hmac_key: Option<aws_lc_rs::hmac::Key>,
}

impl std::fmt::Debug for OtpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtpGateway").field("url", &self.config.url).finish_non_exhaustive()
    }
}

/// What made a gateway unusable at start-up.
#[derive(Debug, thiserror::Error)]
#[error("otp_gateway.\"{bank}\": {problem}")]
pub struct GatewaySetupError {
    pub bank: BankCode,
    pub problem: String,
}

impl OtpGateway {
    /// Reads the configured files and builds the HTTPS client (start-up: a failure stops it).
    pub fn new(bank: BankCode, bank_name: &str, config: &OtpGatewayConfig) -> Result<OtpGateway, GatewaySetupError> {
        let fail = |problem: String| GatewaySetupError { bank, problem };
        let client = config.client_cert.as_deref().zip(config.client_key.as_deref());
        let files = crate::outbound::TlsFiles { ca: config.ca.as_deref(), client };
        let http = crate::outbound::https_client(Duration::from_secs(config.timeout_secs), files).map_err(fail)?;
        let hmac_key = match &config.hmac_key_file {
            Some(path) => {
                let key = crate::secret::read_key_file(path).map_err(fail)?;
                Some(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key))
            }
            None => None,
        };
        Ok(OtpGateway { config: config.clone(), bank_name: bank_name.to_owned(), http, hmac_key })
    }

    /// A code of `code_length` digits from the system's CSPRNG.
    fn draw_code(&self) -> Result<String, AuthenticatorError> {
        let length = self.config.code_length as usize;
        let mut code = String::with_capacity(length);
        while code.len() < length {
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AuthenticatorError::Unavailable("no randomness".into()))?;
            // 250 = 25 * 10: rejecting the bytes above it keeps every digit equally likely.
            let digits = bytes.iter().filter(|b| **b < 250).map(|b| char::from(b'0' + b % 10));
            code.extend(digits.take(length - code.len()));
        }
        Ok(code)
    }

    /// What the ledger must hold for the configured channel, for a log line.
    fn destination_kind(&self) -> &'static str {
        match self.config.channel {
            OtpChannel::Sms => "phone number",
            OtpChannel::Email => "e-mail address",
        }
    }

    fn message(&self, code: &str, context: &ChallengeContext) -> String {
        let minutes = self.config.code_lifetime_secs.div_ceil(60);
        match &context.transaction {
            Some(t) => format!(
                "{}: paiement de {} {} à {}. Code de confirmation : {code} (valable {minutes} min). Ne le communiquez à personne.",
                self.bank_name,
                t.amount.amount_text(),
                t.amount.currency,
                t.payee
            ),
            None => format!(
                "{}: votre code de connexion est {code} (valable {minutes} min). Ne le communiquez à personne.",
                self.bank_name
            ),
        }
    }

    /// Sends `body` until a delivery, a refusal, or the retries run out; signed at `now` (the
    /// deployment's clock).
    async fn deliver(&self, body: &serde_json::Value, reference: &str, now: Timestamp) -> Result<(), String> {
        let text = body.to_string();
        let mut wait = Duration::from_millis(250);
        let mut last = String::new();
        for attempt in 0..=self.config.retries {
            if attempt > 0 {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            let mut request = self
                .http
                .post(&self.config.url)
                .header("content-type", "application/json")
                .header("idempotency-key", reference)
                .body(text.clone());
            if let Some(key) = &self.hmac_key {
                let t = now.as_second();
                let tag = aws_lc_rs::hmac::sign(key, format!("{t}.{text}").as_bytes());
                request = request
                    .header("x-stetgate-signature", format!("t={t},hmac-sha256={}", eidas::psd2::hex(tag.as_ref())));
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    last = format!("the gateway answered {status}");
                    if !(status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429) {
                        break;
                    }
                }
                Err(e) if e.is_timeout() => {
                    let (url, secs) = (&self.config.url, self.config.timeout_secs);
                    last = format!("the gateway {url} did not answer within {secs} s");
                }
                Err(e) => last = format!("the gateway could not be reached: {e}"),
            }
        }
        Err(last)
    }
}

/// `salt:sha256(salt|code|linked reference)`: what verifying needs, and not the code.
fn code_reference(salt: &str, code: &str, context: &ChallengeContext) -> String {
    format!("{salt}:{}", crate::secret::hash_secret(&format!("{salt}|{code}|{}", linked_reference(context))))
}

#[async_trait]
impl PsuAuthenticator for OtpGateway {
    fn available(&self, _bank: BankCode) -> bool {
        true
    }

    fn sends_messages(&self, _bank: BankCode) -> bool {
        true
    }

    fn code_method(&self, _bank: BankCode) -> ScaMethod {
        match self.config.channel {
            OtpChannel::Sms => ScaMethod::Sms,
            OtpChannel::Email => ScaMethod::Email,
        }
    }

    async fn start(
        &self,
        bank: BankCode,
        psu: &Psu,
        context: &ChallengeContext,
        now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError> {
        let destination = match self.config.channel {
            OtpChannel::Sms => psu.phone.clone(),
            OtpChannel::Email => psu.email.clone(),
        };
        let destination = destination.ok_or(AuthenticatorError::NoDestination(self.destination_kind()))?;
        let code = self.draw_code()?;
        let salt = crate::secret::Secret::generate()
            .map_err(|_| AuthenticatorError::Unavailable("no randomness".into()))?
            .expose()
            .to_owned();
        let lifetime = SignedDuration::from_secs(i64::try_from(self.config.code_lifetime_secs).unwrap_or(300));
        let expires_at = now.saturating_add(lifetime).unwrap_or(now);
        let reference = uuid::Uuid::new_v4().to_string();
        let body = serde_json::json!({
            "bank": bank.as_str(),
            "psu": psu.id.as_str(),
            "channel": self.config.channel,
            "destination": destination,
            "message": self.message(&code, context),
            "expires_at": expires_at.to_string(),
            "reference": reference,
        });
        if let Err(why) = self.deliver(&body, &reference, now).await {
            // Logged once, with the request that failed, by the edge (the cause of its 503).
            let cause = format!("one-time code not delivered (bank {bank}, reference {reference}): {why}");
            return Err(AuthenticatorError::Unavailable(cause));
        }
        tracing::info!(%bank, reference, channel = ?self.config.channel, "one-time code sent");
        let masked = match self.config.channel {
            OtpChannel::Sms => super::authenticator::mask_phone(Some(&destination)),
            OtpChannel::Email => super::authenticator::mask_email(&destination),
        };
        Ok(Challenge {
            method: self.code_method(bank),
            masked_destination: Some(masked),
            expires_at,
            reference: code_reference(&salt, &code, context),
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
        let Some((salt, _)) = challenge.reference.split_once(':') else { return Ok(Verification::Failed) };
        let expected = code_reference(salt, answer.trim(), context);
        let valid = now <= challenge.expires_at && crate::secret::same_secret(&expected, &challenge.reference);
        Ok(if valid { Verification::Verified { sca_at: now } } else { Verification::Failed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(length: u32) -> OtpGateway {
        let config = OtpGatewayConfig { code_length: length, ..OtpGatewayConfig::example("https://gw.example/send") };
        OtpGateway::new(BankCode::parse("13807").unwrap(), "Banque", &config).unwrap()
    }

    #[test]
    fn codes_have_the_configured_digits_and_vary() {
        let g = gateway(8);
        let codes: std::collections::BTreeSet<String> = (0..50).map(|_| g.draw_code().unwrap()).collect();
        assert!(codes.iter().all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 45, "random codes: {codes:?}");
    }

    #[test]
    fn the_reference_verifies_the_code_and_its_context_only() {
        let context = ChallengeContext::default();
        let reference = code_reference("salt", "12345678", &context);
        assert!(!reference.contains("12345678"), "the code is not kept");
        assert_eq!(code_reference("salt", "12345678", &context), reference);
        assert_ne!(code_reference("salt", "12345679", &context), reference);
        assert_ne!(code_reference("other", "12345678", &context), reference);
        let pay = |amount: &str, payee: &str| ChallengeContext {
            transaction: Some(super::super::authenticator::TransactionContext {
                amount: stet::Amount::parse(amount, stet::Currency::EUR).unwrap(),
                payee: payee.into(),
            }),
        };
        let payment = code_reference("salt", "12345678", &pay("42.00", "Bakery"));
        assert_ne!(payment, reference, "a login code does not approve a payment");
        assert_ne!(code_reference("salt", "12345678", &pay("4200.00", "Bakery")), payment, "another amount");
        assert_ne!(code_reference("salt", "12345678", &pay("42.00", "Mallory")), payment, "another payee");
    }

    #[test]
    fn a_payment_message_names_the_amount_and_payee() {
        let context = ChallengeContext {
            transaction: Some(super::super::authenticator::TransactionContext {
                amount: stet::Amount::parse("42.50", stet::Currency::EUR).unwrap(),
                payee: "Boulangerie Paul".into(),
            }),
        };
        let text = gateway(8).message("48213377", &context);
        assert!(text.contains("42.50 EUR") && text.contains("Boulangerie Paul") && text.contains("48213377"), "{text}");
        assert!(gateway(8).message("48213377", &ChallengeContext::default()).contains("connexion"));
    }
}
