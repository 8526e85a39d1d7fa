//! What the cases of one run share: the client (mTLS with the QWAC, requests signed with the
//! QSealC), the profile, "today" in Paris, what earlier cases obtained (tokens, resource ids, the
//! payment request), and the evidence of the current case. Every request goes through here, so
//! each one is recorded with the `X-Request-ID` it was sent with.

use super::cases::Verdict;
use super::exchange::{Exchange, redacted_url};
use super::profile::Profile;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use stet::ApiVersion;
use stet_tpp::{AuthorizationRequest, FlowEnd, PsuAnswers, Redirected, TppClient, new_request_id};

/// Whether the PSU is using the TPP now (PSU-IP-Address sent) or the TPP acts alone (batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Connected,
    Batch,
}

/// An access token and the refresh token of its pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub access: String,
    pub refresh: Option<String>,
}

/// A payment request created by the PISP cases.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    pub id: String,
    pub approval: String,
    pub nonce: Option<String>,
    pub factor: Option<String>,
}

/// What earlier cases obtained for later ones.
#[derive(Debug, Default)]
pub struct Obtained {
    pub aisp: Option<Pair>,
    /// The access token a refresh replaced.
    pub aisp_replaced: Option<String>,
    /// IBAN -> resourceId, from GET /accounts after the consent.
    pub resource_ids: BTreeMap<String, String>,
    /// The transactions of the persona with many operations.
    pub many: Option<Exchange>,
    pub cbpii: Option<Pair>,
    /// AIS-16 sent the AISP token to funds confirmation (which may cost the refresh token).
    pub scope_refusal_sent: bool,
    pub pisp: Option<String>,
    pub payment: Option<Payment>,
}

/// One run against one bank.
pub struct Context {
    pub client: TppClient,
    pub client_id: String,
    pub redirect_uri: String,
    pub profile: Profile,
    pub version: ApiVersion,
    /// The PSD2 roles of the TPP's QWAC.
    pub roles: Vec<eidas::psd2::Role>,
    /// Today in Paris, the bank's calendar.
    pub today: jiff::civil::Date,
    pub obtained: Obtained,
    /// The evidence of the case running now.
    pub log: Vec<Exchange>,
}

impl Context {
    /// `/stet/psd2/<version><rest>`.
    pub fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.version.base_path())
    }

    /// A signed resource call with `token`, recorded.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        presence: Presence,
    ) -> Exchange {
        let id = new_request_id();
        let mut request = self.client.signed(method.clone(), path).header("x-request-id", id.clone()).bearer(token);
        if presence == Presence::Connected {
            request = request.header("psu-ip-address", self.profile.psu_ip_address.clone());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.record(Exchange::read(format!("{method} {path}"), Some(id), request.send().await).await)
    }

    /// A form POST to the token endpoint (over mutual TLS), recorded.
    pub async fn token(&mut self, params: &[(&str, &str)]) -> Exchange {
        let id = new_request_id();
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        let grant = params.iter().find(|(k, _)| *k == "grant_type").map(|(_, v)| *v).unwrap_or("?");
        let answer = self
            .client
            .request_without_id(Method::POST, "/stet/psd2/oauth/token")
            .header("x-request-id", id.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        self.record(Exchange::read(format!("POST /stet/psd2/oauth/token ({grant})"), Some(id), answer).await)
    }

    fn record(&mut self, exchange: Exchange) -> Exchange {
        self.log.push(exchange.clone());
        exchange
    }

    /// Goes through the bank's pages at `url` as `psu` would; where the bank sent the PSU back.
    pub async fn pages(
        &mut self,
        what: &str,
        url: &str,
        psu: &str,
        accounts: Option<Vec<String>>,
    ) -> Result<Redirected, Verdict> {
        let answers = PsuAnswers { psu_id: psu.to_owned(), otp: self.profile.otp.clone(), accounts };
        let url = if url.starts_with('/') { format!("{}{url}", self.client.base_url()) } else { url.to_owned() };
        let label = format!("PSU {psu} on the bank's pages ({what})");
        match self.client.drive_pages(&url, &answers).await {
            Ok(FlowEnd::Redirected(back)) => {
                self.record(Exchange::note(label, format!("sent back to {}", redacted_url(&back.location))));
                Ok(back)
            }
            Ok(FlowEnd::Page(status, html)) => {
                let got = format!("a page with no way forward, HTTP {status}: {}", super::exchange::cut(&html, 120));
                self.record(Exchange::note(label, got.clone()));
                Err(Verdict::fail("the pages to end in a redirect back to the TPP", got))
            }
            Err(e) => {
                let why = super::exchange::causes(&e);
                self.record(Exchange::note(label, format!("failed: {why}")));
                Err(Verdict::fail("the pages to end in a redirect back to the TPP", why))
            }
        }
    }

    /// Authorizes as `psu` for `scope` (ticking `accounts`, or all) and exchanges the code.
    pub async fn login(&mut self, psu: &str, scope: &str, accounts: Option<Vec<String>>) -> Result<Pair, Verdict> {
        let state = new_request_id();
        let request = AuthorizationRequest {
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: scope.to_owned(),
            state: Some(state.clone()),
            code_challenge: None,
        };
        let back = self.pages(&format!("authorize, scope {scope}"), &request.path(), psu, accounts).await?;
        let Some(code) = back.get("code").map(str::to_owned) else {
            return Err(Verdict::fail("a code on the redirect URI", redacted_url(&back.location)));
        };
        if back.get("state") != Some(state.as_str()) {
            return Err(Verdict::fail("the state sent, back on the redirect URI", redacted_url(&back.location)));
        }
        let client_id = self.client_id.clone();
        let redirect_uri = self.redirect_uri.clone();
        let answer = self
            .token(&[
                ("client_id", &client_id),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
            ])
            .await;
        match (answer.status(), answer.text("access_token")) {
            (200, Some(access)) => {
                Ok(Pair { access: access.to_owned(), refresh: answer.text("refresh_token").map(str::to_owned) })
            }
            _ => Err(Verdict::fail("200 with an access_token", answer.got())),
        }
    }
}
