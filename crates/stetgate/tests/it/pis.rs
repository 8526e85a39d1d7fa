//! Payment initiation over real TLS on the Banque Populaire personas: the PISP's token, the
//! request on each version with its refusals and reason codes, idempotency, the PSU's approval
//! (approved, refused, expired), the confirmation (once, even when two race; the factor bound to
//! its request and PISP), execution through the SQL ledger's hub (visible in AIS; a blocked debtor
//! account rejected AC06; a bulk payment instruction by instruction), instant payments executed at
//! once, future-dated payments across a DST change, cancellation (v1.4.2 and v1.6.2), standing
//! orders and the scheduler on two nodes, the PSU's token on `/confirmation` (v1.6.2 only), and
//! payment calls counted under `pis` in the statistics.

use crate::harness::{
    AppOptions, CALLBACK, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app_with, spawn_second_node,
};
use eidas::psd2::Role;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stet::ApiVersion;
use stet_tpp::{FlowEnd, PsuAnswers, TppClient};

const BP: &str = "www.13807.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-54321";
const MARC: &str = "D0999990I0";
const MARC_1: &str = "FR7613807008043001965405158";
const MARC_1_ID: &str = "138070080430019654051";
const CAMILLE: &str = "D0999995I0";
const CAMILLE_OPEN: &str = "FR7613807008043001965410105";
const CAMILLE_OPEN_ID: &str = "138070080430019654101";
const CAMILLE_CLOSED: &str = "FR7613807008043001965410202";
const CAMILLE_BLOCKED: &str = "FR7613807008043001965410396";
const PAYEE: &str = "FR7630004000031234567890143";
const OK_URL: &str = "https://pisp.example/payment/ok?order=42";
const KO_URL: &str = "https://pisp.example/payment/ko";

/// A registered PISP (also an AISP, to see the debit) and its client.
pub(crate) struct Pisp {
    pub(crate) app: TestApp,
    pub(crate) tpp: TestTpp,
    pub(crate) client: TppClient,
}

async fn pisp(db: TestDb) -> Pisp {
    pisp_with(db, AppOptions::default()).await
}

pub(crate) async fn pisp_with(db: TestDb, options: AppOptions) -> Pisp {
    let app = spawn_app_with(db, options).await;
    let spec = CertSpec { roles: vec![Role::PaymentInitiation, Role::AccountInformation], ..CertSpec::default() };
    let tpp = app.tpp(ORG, spec);
    app.register(&tpp).await;
    let client = app.tpp_client(BP, &tpp);
    Pisp { app, tpp, client }
}

/// A single payment of `amount` euros to a bakery, from `debtor` (the PSU chooses when `None`).
pub(crate) fn single(id: &str, amount: &str, debtor: Option<&str>) -> Value {
    let mut body = json!({
        "paymentInformationId": id,
        "creationDateTime": "2026-11-21T11:00:00.000+01:00",
        "numberOfTransactions": 1,
        "initiatingParty": {"name": "My PISP"},
        "paymentTypeInformation": {"serviceLevel": "SEPA", "categoryPurpose": "DVPM"},
        "beneficiary": {"creditor": {"name": "Boulangerie Paul"}, "creditorAccount": {"iban": PAYEE}},
        "chargeBearer": "SLEV",
        "creditTransferTransaction": [{
            "paymentId": {"instructionId": format!("{id}-1"), "endToEndId": format!("{id}-e2e")},
            "instructedAmount": {"currency": "EUR", "amount": amount},
            "remittanceInformation": ["Commande 42"]
        }],
        "supplementaryData": {
            "acceptedAuthenticationApproach": ["REDIRECT"],
            "successfulReportUrl": OK_URL,
            "unsuccessfulReportUrl": KO_URL
        }
    });
    if let Some(iban) = debtor {
        body["debtorAccount"] = json!({"iban": iban});
    }
    body
}

impl Pisp {
    /// The PISP's own token.
    pub(crate) async fn token(&self) -> String {
        let response = self.client.pisp_token(ORG).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let tokens: stet_tpp::Tokens = response.json().await.unwrap();
        assert_eq!(tokens.scope, "pisp");
        assert!(tokens.refresh_token.is_none(), "no refresh token by client credentials");
        tokens.access_token
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.client.signed(method, path).bearer(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null), headers)
    }

    pub(crate) async fn post(
        &self,
        version: ApiVersion,
        token: &str,
        body: &Value,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.call(Method::POST, &format!("{}/payment-requests", version.base_path()), token, Some(body)).await
    }

    /// Posts `body` and returns the request id and its approval link.
    pub(crate) async fn create(&self, version: ApiVersion, token: &str, body: &Value) -> (String, String) {
        let (status, created, headers) = self.post(version, token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let location = headers["location"].to_str().unwrap().to_owned();
        let id = location.rsplit('/').next().unwrap().to_owned();
        assert!(location.starts_with(&format!("{}/payment-requests/", version.base_path())));
        assert_eq!(created["appliedAuthenticationApproach"], "REDIRECT");
        assert_eq!(created.get("nonce").is_some(), version != ApiVersion::V1, "{created}");
        let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap().to_owned();
        assert!(approval.contains(&format!("paymentRequestResourceId={id}")), "{approval}");
        (id, approval)
    }

    pub(crate) async fn approve(&self, approval: &str, psu: &str, account: Option<&str>) -> stet_tpp::Redirected {
        let answers =
            PsuAnswers { psu_id: psu.into(), otp: "12345678".into(), accounts: account.map(|a| vec![a.to_owned()]) };
        match self.client.drive_approval(approval, &answers).await.unwrap() {
            FlowEnd::Redirected(back) => back,
            FlowEnd::Page(status, html) => panic!("the approval stopped on a page ({status}): {html}"),
        }
    }

    pub(crate) async fn get(&self, version: ApiVersion, token: &str, id: &str) -> Value {
        let (status, body, _) =
            self.call(Method::GET, &format!("{}/payment-requests/{id}", version.base_path()), token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub(crate) async fn confirm(
        &self,
        version: ApiVersion,
        token: &str,
        id: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let path = format!("{}/payment-requests/{id}/confirmation", version.base_path());
        let (status, body, _) = self.call(Method::POST, &path, token, Some(body)).await;
        (status, body)
    }

    /// A request for `body` that Marc approves (no account to choose) and the PISP confirms with
    /// its factor and nonce: the request's id and the confirmation's answer.
    pub(crate) async fn approved_and_confirmed(
        &self,
        version: ApiVersion,
        token: &str,
        body: &Value,
    ) -> (String, (StatusCode, Value)) {
        let (id, approval) = self.create(version, token, body).await;
        let back = self.approve(&approval, MARC, None).await;
        let nonce = self.post(version, token, body).await.1["nonce"].clone();
        let confirmed =
            self.confirm(version, token, &id, &json!({"nonce": nonce, "psuAuthenticationFactor": factor(&back)})).await;
        (id, confirmed)
    }

    /// Another PISP, registered with this bank: its client and its own client-credentials token.
    pub(crate) async fn another_pisp(&self, org: &str) -> (TppClient, String) {
        let spec = CertSpec { roles: vec![Role::PaymentInitiation], ..CertSpec::default() };
        let other = self.app.tpp(org, spec);
        self.app.register(&other).await;
        let client = self.app.tpp_client(BP, &other);
        let tokens: stet_tpp::Tokens = client.pisp_token(org).await.unwrap().json().await.unwrap();
        (client, tokens.access_token)
    }

    /// The PISP cancels its request `id` (PUT with CANC and DS02): the answer's status and body.
    pub(crate) async fn cancel(&self, version: ApiVersion, token: &str, id: &str) -> (StatusCode, Value) {
        let mut resource = self.get(version, token, id).await["paymentRequest"].clone();
        resource["paymentInformationStatus"] = json!("CANC");
        resource["statusReasonInformation"] = json!("DS02");
        let path = format!("/stet/psd2/{version}/payment-requests/{id}");
        let (status, answer, _) = self.call(Method::PUT, &path, token, Some(&resource)).await;
        (status, answer)
    }

    /// One pass of the payment scheduler, as every node runs it.
    pub(crate) async fn tick(&self) {
        stetgate::pis::execute::run_scheduler(&self.app.state).await.unwrap();
    }

    /// The booked balance of one of Marc's accounts and his transactions there, through AIS.
    pub(crate) async fn marc_sees(&self, iban: &str, resource: &str) -> (String, Vec<Value>) {
        let aisp = self.app.access_token(&self.tpp, BP, MARC, "aisp", None).await;
        let consent = json!({"balances": [{"iban": iban}], "transactions": [{"iban": iban}], "trustedBeneficiaries": false, "psuIdentity": false});
        let connected =
            |m: Method, p: &str| self.client.signed(m, p).bearer(&aisp).header("psu-ip-address", "192.0.2.10");
        let put = connected(Method::PUT, "/stet/psd2/v1.4.2/consents").json(&consent).send().await.unwrap();
        assert_eq!(put.status(), StatusCode::CREATED);
        let balances: Value = connected(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{resource}/balances"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let booked = balances["balances"].as_array().unwrap().iter().find(|b| b["balanceType"] == "CLBD").unwrap()["balanceAmount"]["amount"]
            .as_str()
            .unwrap()
            .to_owned();
        let transactions: Value =
            connected(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{resource}/transactions"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        (booked, transactions["transactions"].as_array().unwrap().clone())
    }
}

pub(crate) fn factor(back: &stet_tpp::Redirected) -> String {
    assert!(back.location.starts_with(OK_URL), "back to the success URL, its own parameters kept: {}", back.location);
    back.get("psuAuthenticationFactor").expect("psuAuthenticationFactor").to_owned()
}

async fn the_whole_walk_on_v1_6_2_debits_the_account_seen_in_ais(db: TestDb) {
    let p = pisp(db).await;
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let token = p.token().await;
    let (id, approval) = p.create(ApiVersion::V1_6_2, &token, &single("walk-1", "42.50", None)).await;
    let received = p.get(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(received["paymentRequest"]["paymentInformationStatus"], "RCVD");
    crate::openapi::assert_matches_document(ApiVersion::V1_6_2, "HalPaymentRequest", &received);
    let back = p.approve(&approval, MARC, Some(MARC_1_ID)).await;
    let factor = factor(&back);
    let approved = p.get(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(approved["paymentRequest"]["paymentInformationStatus"], "ACTC", "waiting for the PISP's confirmation");
    assert!(approved["_links"]["confirmation"]["href"].as_str().unwrap().ends_with("/confirmation"));
    assert_eq!(approved["paymentRequest"]["debtorAccount"]["iban"], MARC_1, "the account the PSU chose");
    let nonce = p.post(ApiVersion::V1_6_2, &token, &single("walk-1", "42.50", None)).await.1["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, done) =
        p.confirm(ApiVersion::V1_6_2, &token, &id, &json!({"nonce": nonce, "psuAuthenticationFactor": factor})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    crate::openapi::assert_matches_document(ApiVersion::V1_6_2, "HalPaymentRequest", &done);
    let request = &done["paymentRequest"];
    assert_eq!(request["paymentInformationStatus"], "ACSC", "{done}");
    assert_eq!(request["creditTransferTransaction"][0]["transactionStatus"], "ACSC");
    assert_eq!(request["creditTransferTransaction"][0]["instructedAmount"]["amount"], "42.50", "amounts as strings");
    assert_eq!(request["creditTransferTransaction"][0]["remittanceInformation"]["unstructured"][0], "Commande 42");
    assert!(done["_links"].get("confirmation").is_none(), "no confirmation link once confirmed");
    let (again, _) =
        p.confirm(ApiVersion::V1_6_2, &token, &id, &json!({"nonce": nonce, "psuAuthenticationFactor": factor})).await;
    assert_eq!(again, StatusCode::CONFLICT, "a second confirmation");
    let (after, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 4250, "{before} -> {after}");
    let debit = transactions
        .iter()
        .find(|t| t["remittanceInformation"].to_string().contains("Boulangerie Paul"))
        .expect("the debit");
    assert_eq!(debit["transactionAmount"]["amount"], "42.50");
    assert_eq!(debit["creditDebitIndicator"], "DBIT");
    assert_eq!(debit["status"], "BOOK");
}

/// An approved request waits for the PISP's confirmation: the scheduler, which executes what is
/// due today, leaves it alone and nothing is debited until the PISP confirms.
async fn nothing_executes_before_the_pisps_confirmation(db: TestDb) {
    let p = pisp(db).await;
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let token = p.token().await;
    let body = single("unconfirmed-1", "31.40", Some(MARC_1));
    let (id, approval) = p.create(ApiVersion::V1_6_2, &token, &body).await;
    let back = p.approve(&approval, MARC, None).await;
    p.tick().await;
    p.app.clock.advance(jiff::SignedDuration::from_mins(2));
    p.tick().await;
    let token = p.token().await;
    let waiting = p.get(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(waiting["paymentRequest"]["paymentInformationStatus"], "ACTC", "{waiting}");
    let (unchanged, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    assert_eq!(unchanged, before, "nothing debited before the confirmation");
    assert!(
        !transactions.iter().any(|t| t["transactionAmount"]["amount"] == "31.40"),
        "no operation before the confirmation: {transactions:?}"
    );
    let nonce = p.post(ApiVersion::V1_6_2, &token, &body).await.1["nonce"].clone();
    let (status, done) = p
        .confirm(ApiVersion::V1_6_2, &token, &id, &json!({"nonce": nonce, "psuAuthenticationFactor": factor(&back)}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");
    let (after, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 3140, "debited once confirmed: {before} -> {after}");
}

async fn v1_executes_on_approval_and_answers_405_to_put_and_confirmation(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (id, approval) = p.create(ApiVersion::V1, &token, &single("v1-pay", "10.00", Some(MARC_1))).await;
    let back = p.approve(&approval, MARC, None).await;
    factor(&back);
    let done = p.get(ApiVersion::V1, &token, &id).await;
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");
    assert!(done["paymentRequest"]["creditTransferTransaction"][0]["remittanceInformation"].is_array(), "lines on v1");
    let path = format!("/stet/psd2/v1/payment-requests/{id}");
    let (put, _, _) = p.call(Method::PUT, &path, &token, Some(&done["paymentRequest"])).await;
    assert_eq!(put, StatusCode::METHOD_NOT_ALLOWED);
    let (confirmation, _, _) = p.call(Method::POST, &format!("{path}/confirmation"), &token, Some(&json!({}))).await;
    assert_eq!(confirmation, StatusCode::METHOD_NOT_ALLOWED);
}

async fn refusals_carry_the_stet_reason_code(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let code = async |version: ApiVersion, body: Value| {
        let (status, error, _) = p.post(version, &token, &body).await;
        (status.as_u16(), error["message"].as_str().unwrap_or("").to_owned(), error)
    };
    let mut b = single("r1", "10.00", None);
    b["creditTransferTransaction"][0]["instructedAmount"]["amount"] = json!("10.001");
    assert_eq!(code(ApiVersion::V1_4_2, b).await.1, "FF01");
    let mut b = single("r2", "10.00", None);
    b["debtorAccount"] = json!({"iban": "FR7613807008043001965405159"});
    assert_eq!(code(ApiVersion::V1, b).await.1, "AC01");
    let mut b = single("r3", "10.00", None);
    b["beneficiary"]["creditor"]["name"] = json!("");
    assert_eq!(code(ApiVersion::V1_6_2, b).await.1, "RR03");
    let mut b = single("r4", "10.00", None);
    b["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2027-01-15T00:00:00+01:00");
    assert_eq!(code(ApiVersion::V1, b.clone()).await.1, "CH03", "beyond v1's 30 days");
    assert_eq!(code(ApiVersion::V1_6_2, b).await.0, 201);
    let mut b = single("r5", "10.00", None);
    let t = b["creditTransferTransaction"][0].clone();
    b["creditTransferTransaction"] = json!([t.clone(), t]);
    b["numberOfTransactions"] = json!(2);
    assert_eq!(code(ApiVersion::V1, b).await.1, "AM18", "v1 takes single payments");
    let mut b = single("r6", "10.00", None);
    b["supplementaryData"]["acceptedAuthenticationApproach"] = json!(["EMBEDDED-1-FACTOR", "DECOUPLED"]);
    let (status, message, error) = code(ApiVersion::V1_6_2, b).await;
    assert_eq!((status, message.as_str()), (400, "FF01"));
    assert_eq!(error["acceptedAuthenticationApproach"], json!(["REDIRECT"]), "1.5's Error400Model");
    let mut b = single("r7", "10.00", None);
    b["debtorAcount"] = json!({"iban": MARC_1});
    let (status, message, error) = code(ApiVersion::V1_6_2, b).await;
    assert_eq!((status, message.as_str()), (400, "FF01"));
    assert!(error["error"].as_str().unwrap().contains("debtorAcount"), "the misspelt field is named: {error}");
    let mut b = single("r8", "10.00", None);
    b["creditTransferTransaction"][0]["instructedAmount"]["amount"] = json!(10.5);
    assert_eq!(code(ApiVersion::V1_6_2, b).await.0, 201, "a number, as 1.4.2 and later declare it");
    // What the official definitions constrain beyond the bank's own rules, in every version.
    for (version, id) in [(ApiVersion::V1, "r9"), (ApiVersion::V1_4_2, "r10"), (ApiVersion::V1_6_2, "r11")] {
        let mut b = single(id, "10.00", None);
        b["initiatingParty"]["name"] = json!("N".repeat(141));
        let (status, message, error) = code(version, b).await;
        assert_eq!((status, message.as_str()), (400, "FF01"), "{version}: {error}");
        let why = error["error"].as_str().unwrap();
        assert!(why.contains("/initiatingParty/name") && why.contains("longer than 140"), "{version}: {why}");
        let mut b = single(&format!("{id}b"), "10.00", None);
        b["initiatingParty"]["postalAddress"] = json!({"addressLine": ["18 rue de la DSP2"], "country": "france"});
        assert_eq!(code(version, b).await.1, "FF01", "{version}: a country is two capital letters");
    }
    // The bank's own reason codes, the same on every version.
    for (version, id) in [(ApiVersion::V1, "c1"), (ApiVersion::V1_4_2, "c2"), (ApiVersion::V1_6_2, "c3")] {
        let mut b = single(&format!("{id}-ac01"), "10.00", None);
        b["debtorAccount"] = json!({"iban": "FR7613807008043001965405159"});
        assert_eq!(code(version, b).await.1, "AC01", "{version}: a debtor IBAN whose check digits fail");
        let mut b = single(&format!("{id}-ac01-payee"), "10.00", None);
        b["beneficiary"]["creditorAccount"] = json!({"iban": "FR7630004000031234567890144"});
        assert_eq!(code(version, b).await.1, "AC01", "{version}: a payee IBAN whose check digits fail");
        let mut b = single(&format!("{id}-rr03"), "10.00", None);
        b["beneficiary"]["creditor"]["name"] = json!(" ");
        assert_eq!(code(version, b).await.1, "RR03", "{version}: a payee without a name");
        let mut b = single(&format!("{id}-ch03"), "10.00", None);
        b["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2027-12-01T00:00:00+01:00");
        assert_eq!(code(version, b).await.1, "CH03", "{version}: beyond the bank's horizon (365 days at most)");
        let mut b = single(&format!("{id}-approach"), "10.00", None);
        b["supplementaryData"]["acceptedAuthenticationApproach"] = json!(["DECOUPLED"]);
        let (status, message, error) = code(version, b).await;
        assert_eq!((status, message.as_str()), (400, "FF01"), "{version}: no REDIRECT offered: {error}");
        assert_eq!(error["acceptedAuthenticationApproach"], json!(["REDIRECT"]), "{version}: what to offer");
    }
    let mut b = single("c4-am18", "1.00", None);
    let t = b["creditTransferTransaction"][0].clone();
    b["creditTransferTransaction"] = json!(vec![t; 101]);
    b["numberOfTransactions"] = json!(101);
    for version in [ApiVersion::V1_4_2, ApiVersion::V1_6_2] {
        assert_eq!(code(version, b.clone()).await.1, "AM18", "{version}: 100 instructions at most");
    }
}

async fn the_same_request_twice_is_one_request(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let body = single("idem-1", "5.00", None);
    let (first, _) = p.create(ApiVersion::V1_4_2, &token, &body).await;
    let (second, _) = p.create(ApiVersion::V1_4_2, &token, &body).await;
    assert_eq!(first, second, "a retry is the same request");
    let mut other = body.clone();
    other["creditTransferTransaction"][0]["instructedAmount"]["amount"] = json!("6.00");
    let (status, error, _) = p.post(ApiVersion::V1_4_2, &token, &other).await;
    assert_eq!((status, error["message"].as_str()), (StatusCode::BAD_REQUEST, Some("FF01")), "{error}");
    assert!(error["error"].as_str().unwrap().contains(&first), "{error}");
    for (version, id) in [(ApiVersion::V1, "idem-v1"), (ApiVersion::V1_6_2, "idem-v162")] {
        let body = single(id, "5.00", None);
        let (first, _) = p.create(version, &token, &body).await;
        let (second, _) = p.create(version, &token, &body).await;
        assert_eq!(first, second, "{version}: a retry is the same request");
    }
    // The key is the PISP's own: under the same paymentInformationId, another PISP's body (the
    // one this PISP was refused) is another PISP's request.
    let (client, their_token) = p.another_pisp("PSDFR-ACPR-99998").await;
    let theirs = client
        .signed(Method::POST, "/stet/psd2/v1.4.2/payment-requests")
        .bearer(&their_token)
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::CREATED, "another PISP's key");
    let theirs: Value = theirs.json().await.unwrap();
    let link = theirs["_links"]["consentApproval"]["href"].as_str().unwrap();
    assert!(!link.contains(&first), "another request: {link}");
}

async fn refused_expired_and_failed_approvals_are_rejected_with_their_reason(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    // Refused by the PSU on the authentication page.
    let (refused, approval) = p.create(ApiVersion::V1_4_2, &token, &single("ko-1", "5.00", None)).await;
    let page = p.client.browse(&approval).await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let form = stet_tpp::pages::first_form(&page.text().await.unwrap()).unwrap();
    let mut fields = form.fields.clone();
    fields.push(("action".into(), "cancel".into()));
    let back = p.client.post_form(&form.action, &cookie, &fields).await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    assert!(back.headers()["location"].to_str().unwrap().starts_with(KO_URL));
    let status = p.get(ApiVersion::V1_4_2, &token, &refused).await;
    assert_eq!(status["paymentRequest"]["paymentInformationStatus"], "RJCT");
    assert_eq!(status["paymentRequest"]["statusReasonInformation"], "CUST");
    // Nobody decided in time.
    let (late, _) = p.create(ApiVersion::V1_4_2, &token, &single("ko-2", "5.00", None)).await;
    p.app.clock.advance(jiff::SignedDuration::from_mins(16));
    p.tick().await;
    // The scheduler rejected it (read from the store: a GET would reject it on its own).
    let bank = stet::BankCode::parse("13807").unwrap();
    let stored = p.app.store.payment_request(bank, &stet::ResourceId::parse(&late).unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.reason),
        (stetgate::pis::model::PaymentStatus::Rjct, Some(stetgate::pis::model::StatusReason::Noas)),
        "the scheduler's pass"
    );
    let status = p.get(ApiVersion::V1_4_2, &token, &late).await;
    assert_eq!(status["paymentRequest"]["statusReasonInformation"], "NOAS", "{status}");
    // Three wrong codes.
    let (failed, approval) = p.create(ApiVersion::V1_4_2, &token, &single("ko-3", "5.00", None)).await;
    let wrong = PsuAnswers { psu_id: MARC.into(), otp: "00000000".into(), accounts: None };
    let FlowEnd::Redirected(back) = p.client.drive_approval(&approval, &wrong).await.unwrap() else {
        panic!("no redirect")
    };
    assert!(back.location.starts_with(KO_URL));
    let status = p.get(ApiVersion::V1_4_2, &token, &failed).await;
    assert_eq!(status["paymentRequest"]["paymentInformationStatus"], "RJCT");
    assert_eq!(status["paymentRequest"]["statusReasonInformation"], "MS03", "the PSU could not be authenticated");
}

async fn the_hub_refuses_insufficient_funds_and_a_closed_account(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    // Camille's open account holds 100.00 EUR, with no overdraft.
    let (poor, approval) = p.create(ApiVersion::V1, &token, &single("funds-1", "500.00", Some(CAMILLE_OPEN))).await;
    p.approve(&approval, CAMILLE, None).await;
    let status = p.get(ApiVersion::V1, &token, &poor).await;
    assert_eq!(status["paymentRequest"]["paymentInformationStatus"], "RJCT", "{status}");
    assert_eq!(status["paymentRequest"]["statusReasonInformation"], "CUST");
    // A request naming Camille's closed account.
    let (closed, approval) = p.create(ApiVersion::V1, &token, &single("closed-1", "5.00", Some(CAMILLE_CLOSED))).await;
    let back = p.approve(&approval, CAMILLE, None).await;
    assert!(back.location.starts_with(KO_URL));
    let status = p.get(ApiVersion::V1, &token, &closed).await;
    assert_eq!(status["paymentRequest"]["statusReasonInformation"], "AC04", "{status}");
    // The closed account is not offered when the PSU chooses.
    let (_, approval) = p.create(ApiVersion::V1_4_2, &token, &single("choice-1", "5.00", None)).await;
    let page = p.client.browse(&approval).await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut html = page.text().await.unwrap();
    for answer in [("psu_id", CAMILLE), ("otp", "12345678")] {
        let form = stet_tpp::pages::first_form(&html).unwrap();
        let mut fields = form.fields.clone();
        fields.push((answer.0.into(), answer.1.into()));
        fields.push(("action".into(), "continue".into()));
        html = p.client.post_form(&form.action, &cookie, &fields).await.unwrap().text().await.unwrap();
    }
    let choices = stet_tpp::pages::first_form(&html).unwrap().radios;
    assert_eq!(choices.len(), 1, "the open account only: {choices:?}");
}

async fn two_simultaneous_confirmations_execute_once(db: TestDb) {
    let p = pisp(db).await;
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let token = p.token().await;
    let (status, created, _) = p.post(ApiVersion::V1_4_2, &token, &single("race-1", "7.00", Some(MARC_1))).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["_links"]["consentApproval"]["href"]
        .as_str()
        .unwrap()
        .split("paymentRequestResourceId=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let back = p.approve(created["_links"]["consentApproval"]["href"].as_str().unwrap(), MARC, None).await;
    let body = json!({"nonce": created["nonce"], "psuAuthenticationFactor": factor(&back)});
    let (a, b) = tokio::join!(
        p.confirm(ApiVersion::V1_4_2, &token, &id, &body),
        p.confirm(ApiVersion::V1_4_2, &token, &id, &body)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    let (after, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 700, "debited once");
}

async fn a_wrong_factor_or_nonce_is_refused(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (status, created, _) = p.post(ApiVersion::V1_6_2, &token, &single("factor-1", "3.00", Some(MARC_1))).await;
    assert_eq!(status, StatusCode::CREATED);
    let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap();
    let id = approval.split("paymentRequestResourceId=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let (early, _) = p
        .confirm(ApiVersion::V1_6_2, &token, &id, &json!({"nonce": created["nonce"], "psuAuthenticationFactor": "x"}))
        .await;
    assert_eq!(early, StatusCode::CONFLICT, "not approved yet");
    let factor = factor(&p.approve(approval, MARC, None).await);
    let (wrong, error) = p
        .confirm(
            ApiVersion::V1_6_2,
            &token,
            &id,
            &json!({"nonce": created["nonce"], "psuAuthenticationFactor": "nope"}),
        )
        .await;
    assert_eq!((wrong, error["message"].as_str()), (StatusCode::BAD_REQUEST, Some("FF01")));
    let (wrong_nonce, _) =
        p.confirm(ApiVersion::V1_6_2, &token, &id, &json!({"nonce": "nope", "psuAuthenticationFactor": factor})).await;
    assert_eq!(wrong_nonce, StatusCode::BAD_REQUEST);
    p.app.clock.advance(jiff::SignedDuration::from_mins(6));
    let (stale, _) = p
        .confirm(
            ApiVersion::V1_6_2,
            &token,
            &id,
            &json!({"nonce": created["nonce"], "psuAuthenticationFactor": factor}),
        )
        .await;
    assert_eq!(stale, StatusCode::BAD_REQUEST, "the factor lives five minutes");
}

async fn the_o_confirmation_variant_confirms_with_the_psus_token(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    // Started at the authorization endpoint (scope pisp, with PKCE), which leads to the payment pages.
    let (id, _) = p.create(ApiVersion::V1_4_2, &token, &single("oconf-1", "4.00", Some(MARC_1))).await;
    let pkce = stet_tpp::Pkce::generate();
    let request = stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: "pisp".into(),
        state: Some("s1".into()),
        code_challenge: Some(pkce.challenge.clone()),
    };
    let authorize = format!("{}{}&paymentRequestResourceId={id}", p.client.base_url(), request.path());
    let to_pages = p.client.browse(&authorize).await.unwrap();
    assert_eq!(to_pages.status(), StatusCode::FOUND);
    let pages = format!("{}{}", p.client.base_url(), to_pages.headers()["location"].to_str().unwrap());
    let back = p.approve(&pages, MARC, None).await;
    assert!(back.location.starts_with(CALLBACK) && back.get("state") == Some("s1"), "{}", back.location);
    let code = back.get("code").unwrap();
    let exchanged = p.client.exchange_code_with_verifier(ORG, code, CALLBACK, &pkce.verifier).await.unwrap();
    let tokens: stet_tpp::Tokens = exchanged.json().await.unwrap();
    assert_eq!(tokens.scope, "pisp");
    let path = format!("/stet/psd2/v1.4.2/payment-requests/{id}/o-confirmation");
    let (with_own, _, _) = p.call(Method::POST, &path, &token, Some(&json!({}))).await;
    assert_eq!(with_own, StatusCode::FORBIDDEN, "o-confirmation takes the PSU's token");
    let (status, done, _) = p.call(Method::POST, &path, &tokens.access_token, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC");
    let (again, _, _) = p.call(Method::POST, &path, &tokens.access_token, Some(&json!({}))).await;
    assert_eq!(again, StatusCode::CONFLICT);
    // Or straight from the approval link, with the OAuth parameters instead of the nonce; the
    // token is bound to its own payment request.
    let (other, approval) = p.create(ApiVersion::V1_4_2, &token, &single("oconf-2", "4.00", Some(MARC_1))).await;
    let link = format!(
        "{}&response_type=code&client_id={ORG}&redirect_uri={CALLBACK}",
        approval.split("&nonce=").next().unwrap()
    );
    let back = p.approve(&link, MARC, None).await;
    let tokens: stet_tpp::Tokens =
        p.client.exchange_code(ORG, back.get("code").unwrap(), CALLBACK).await.unwrap().json().await.unwrap();
    let (foreign, _, _) = p.call(Method::POST, &path, &tokens.access_token, Some(&json!({}))).await;
    assert_eq!(foreign, StatusCode::FORBIDDEN, "a token bound to another payment request");
    let (own, _, _) = p
        .call(
            Method::POST,
            &format!("/stet/psd2/v1.4.2/payment-requests/{other}/o-confirmation"),
            &tokens.access_token,
            Some(&json!({})),
        )
        .await;
    assert_eq!(own, StatusCode::OK);
}

async fn tokens_of_one_service_are_refused_by_the_other(db: TestDb) {
    let p = pisp(db).await;
    let pisp_token = p.token().await;
    let accounts = p.client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(&pisp_token).send().await.unwrap();
    assert_eq!(accounts.status(), StatusCode::FORBIDDEN, "a PISP token on AIS");
    let aisp = p.app.access_token(&p.tpp, BP, MARC, "aisp", None).await;
    let (status, _, _) = p.post(ApiVersion::V1_4_2, &aisp, &single("scope-1", "1.00", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an AIS token on PIS");
    // A QWAC without PSP_PI gets no pisp token.
    let aisp_only = p.app.tpp("PSDFR-ACPR-77777", CertSpec::default());
    p.app.register(&aisp_only).await;
    let refused = p.app.tpp_client(BP, &aisp_only).pisp_token("PSDFR-ACPR-77777").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "unauthorized_client");
}

async fn a_future_payment_waits_for_its_paris_day_across_the_dst_change(db: TestDb) {
    // Saturday 27 March 2027; Paris moves to summer time in the night of the 28th.
    let options =
        AppOptions { now: Some("2027-03-27T12:00:00Z".parse::<Timestamp>().unwrap()), ..AppOptions::default() };
    let p = pisp_with(db, options).await;
    let token = p.token().await;
    let mut body = single("future-1", "12.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2027-03-29T00:00:00.000+02:00");
    let (id, (status, confirmed)) = p.approved_and_confirmed(ApiVersion::V1_4_2, &token, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(confirmed["paymentRequest"]["paymentInformationStatus"], "ACSP", "waits for its day");
    // 23:30 on the 28th in Paris (summer time: UTC+2) is not yet the 29th.
    p.app.clock.set("2027-03-28T21:30:00Z".parse().unwrap());
    p.tick().await;
    let token = p.token().await;
    assert_eq!(p.get(ApiVersion::V1_4_2, &token, &id).await["paymentRequest"]["paymentInformationStatus"], "ACSP");
    p.app.clock.set("2027-03-28T22:30:00Z".parse().unwrap());
    p.tick().await;
    let token = p.token().await;
    let done = p.get(ApiVersion::V1_4_2, &token, &id).await;
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");
}

async fn a_future_payment_can_be_cancelled_before_its_day(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let mut body = single("cancel-1", "8.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-25T00:00:00.000+01:00");
    let (id, _) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    let mut resource = p.get(ApiVersion::V1_6_2, &token, &id).await["paymentRequest"].clone();
    assert!(resource["creditTransferTransaction"][0]["cancellableTill"].is_string(), "{resource}");
    let path = format!("/stet/psd2/v1.6.2/payment-requests/{id}");
    resource["paymentInformationStatus"] = json!("ACCP");
    let (modify, _, _) = p.call(Method::PUT, &path, &token, Some(&resource)).await;
    assert_eq!(modify, StatusCode::FORBIDDEN, "the PUT only cancels");
    resource["paymentInformationStatus"] = json!("CANC");
    resource["statusReasonInformation"] = json!("DS02");
    let (status, answer, _) = p.call(Method::PUT, &path, &token, Some(&resource)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["appliedAuthenticationApproach"], "NONE");
    let cancelled = p.get(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(cancelled["paymentRequest"]["paymentInformationStatus"], "CANC");
    assert_eq!(cancelled["paymentRequest"]["statusReasonInformation"], "DS02");
    p.app.clock.set("2026-11-25T09:00:00Z".parse().unwrap());
    p.tick().await;
    let token = p.token().await;
    assert_eq!(
        p.get(ApiVersion::V1_6_2, &token, &id).await["paymentRequest"]["paymentInformationStatus"],
        "CANC",
        "never executed"
    );
    let (again, _, _) = p.call(Method::PUT, &path, &token, Some(&resource)).await;
    assert_eq!(again, StatusCode::CONFLICT, "nothing left to cancel");
}

/// The PSU withdraws the PISP's access (here through the bank's support): an approved payment the
/// PISP has not confirmed is rejected (CUST), a future-dated one is cancelled (DS02).
async fn a_withdrawal_stops_the_pisps_pending_payments(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (waiting, approval) = p.create(ApiVersion::V1_6_2, &token, &single("stop-1", "4.00", Some(MARC_1))).await;
    factor(&p.approve(&approval, MARC, None).await);
    let mut body = single("stop-2", "5.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-25T00:00:00.000+01:00");
    let (future, _) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stetgate"))
        .args(["psu", "access", "revoke", "--bank", "13807", "--psu", MARC, "--tpp", ORG, "--role", "pisp"])
        .args(["--data-dir", p.app.data_dir.path().to_str().unwrap(), "--database-url", p.app.db.url()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let status = async |id: &str| p.get(ApiVersion::V1_6_2, &token, id).await["paymentRequest"].clone();
    let waiting = status(&waiting).await;
    assert_eq!(
        (waiting["paymentInformationStatus"].as_str(), waiting["statusReasonInformation"].as_str()),
        (Some("RJCT"), Some("CUST"))
    );
    let future = status(&future).await;
    assert_eq!(
        (future["paymentInformationStatus"].as_str(), future["statusReasonInformation"].as_str()),
        (Some("CANC"), Some("DS02"))
    );
}

async fn a_standing_order_executes_on_each_day_and_lists_its_executions(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let mut body = single("so-1", "2.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["standingOrderCharacteristics"] = json!({
        "startDate": "2026-11-23T00:00:00.000+01:00", "frequency": "WEEK", "executionRule": "FWNG",
        "endDate": "2026-12-07T00:00:00.000+01:00"
    });
    let (id, _) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    for day in ["2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z", "2026-12-08T09:00:00Z"] {
        p.app.clock.set(day.parse().unwrap());
        p.tick().await;
        p.tick().await;
    }
    let token = p.token().await;
    let path = format!("/stet/psd2/v1.6.2/payment-requests/{id}/transactions");
    let (status, listed, _) = p.call(Method::GET, &path, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let executions = listed["creditTransferTransaction"].as_array().unwrap();
    let days: Vec<&str> = executions.iter().map(|t| &t["appliedExecutionDate"].as_str().unwrap()[..10]).collect();
    assert_eq!(days, ["2026-11-23", "2026-11-30", "2026-12-07"], "weekly, twice on the scheduler, each day once");
    assert!(executions.iter().all(|t| t["transactionStatus"] == "ACSC"));
    let done = p.get(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "ended with its end date");
    assert_eq!(
        done["paymentRequest"]["creditTransferTransaction"][0]["standingOrderCharacteristics"]["frequency"],
        "WEEK"
    );
}

/// A monthly standing order starting on a Saturday (FWNG) executes on the Monday after; once the
/// PISP cancels it, its next month's day passes without a debit.
async fn a_standing_order_moves_off_weekends_and_stops_once_cancelled(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let mut body = single("so-2", "3.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["standingOrderCharacteristics"] = json!({
        "startDate": "2026-11-28T00:00:00.000+01:00", "frequency": "MNTH", "executionRule": "FWNG"
    });
    let (id, (status, confirmed)) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let executed = async || {
        let token = p.token().await;
        let path = format!("/stet/psd2/v1.6.2/payment-requests/{id}/transactions");
        let (status, listed, _) = p.call(Method::GET, &path, &token, None).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed["creditTransferTransaction"]
            .as_array()
            .map(|all| all.iter().map(|t| t["appliedExecutionDate"].as_str().unwrap()[..10].to_owned()).collect())
            .unwrap_or_else(Vec::<String>::new)
    };
    for day in ["2026-11-28T09:00:00Z", "2026-11-29T09:00:00Z"] {
        p.app.clock.set(day.parse().unwrap());
        p.tick().await;
    }
    assert!(executed().await.is_empty(), "nothing on the weekend");
    p.app.clock.set("2026-11-30T09:00:00Z".parse().unwrap());
    p.tick().await;
    assert_eq!(executed().await, ["2026-11-30"], "the Monday after");

    let token = p.token().await;
    let (status, answer) = p.cancel(ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "a running standing order is cancellable: {answer}");
    p.app.clock.set("2026-12-28T09:00:00Z".parse().unwrap());
    p.tick().await;
    assert_eq!(executed().await, ["2026-11-30"], "no execution once cancelled");
    let token = p.token().await;
    assert_eq!(p.get(ApiVersion::V1_6_2, &token, &id).await["paymentRequest"]["paymentInformationStatus"], "CANC");
}

async fn two_nodes_running_the_scheduler_execute_once(db: TestDb) {
    let p = pisp(db).await;
    let second = spawn_second_node(&p.app).await;
    let token = p.token().await;
    let mut body = single("nodes-1", "9.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-24T00:00:00.000+01:00");
    let (id, _) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    for node in [&p.app, &second] {
        node.clock.set("2026-11-24T09:00:00Z".parse().unwrap());
    }
    let (a, b) = tokio::join!(
        stetgate::pis::execute::run_scheduler(&p.app.state),
        stetgate::pis::execute::run_scheduler(&second.state)
    );
    a.unwrap();
    b.unwrap();
    let (after, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let token = p.token().await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 900, "one debit");
    assert_eq!(p.get(ApiVersion::V1_6_2, &token, &id).await["paymentRequest"]["paymentInformationStatus"], "ACSC");
    // The claim itself, not only the hub's own key, makes it once: of many claims of one
    // execution made at the same moment from both nodes, one wins.
    let (bank, request) = (stet::BankCode::parse("13807").unwrap(), stet::ResourceId::parse(&id).unwrap());
    let day: jiff::civil::Date = "2026-12-01".parse().unwrap();
    let now = stetgate::clock::Clock::now(&p.app.clock);
    let claims = (0..8).map(|i| {
        let store = if i % 2 == 0 { p.app.store.clone() } else { second.store.clone() };
        let request = request.clone();
        tokio::spawn(async move { store.claim_execution(bank, &request, 0, day, now).await.unwrap() })
    });
    let mut won = 0;
    for claim in claims.collect::<Vec<_>>() {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1, "one claim of eight wins");
}

async fn another_pisps_request_is_not_found(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (id, _) = p.create(ApiVersion::V1_4_2, &token, &single("mine-1", "1.00", None)).await;
    let (client, their_token) = p.another_pisp("PSDFR-ACPR-99999").await;
    let response = client.payment_request(ApiVersion::V1_4_2, &their_token, &id).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// An instant payment (SEPA Inst: `localInstrument` INST) executes the moment the PISP confirms it
/// (v1.6.2) or the PSU approves it (v1), on a Saturday too, with no scheduler pass: ACSC at once,
/// and the debits in the account right after, booked as SEPA instant transfers (ISCT).
async fn an_instant_payment_executes_at_once(db: TestDb) {
    let p = pisp(db).await;
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let token = p.token().await;
    let instant = |id: &str, amount: &str| {
        let mut body = single(id, amount, Some(MARC_1));
        body["paymentTypeInformation"]["localInstrument"] = json!("INST");
        body
    };
    let body = instant("inst-1", "25.00");
    let (_, (status, done)) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "executed within the confirmation: {done}");
    assert_eq!(done["paymentRequest"]["paymentTypeInformation"]["localInstrument"], "INST");
    // v1 has no confirmation: the approval itself executes it.
    let (v1, approval) = p.create(ApiVersion::V1, &token, &instant("inst-2", "5.00")).await;
    factor(&p.approve(&approval, MARC, None).await);
    assert_eq!(p.get(ApiVersion::V1, &token, &v1).await["paymentRequest"]["paymentInformationStatus"], "ACSC");
    let (after, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 3000, "both debited: {before} -> {after}");
    let instant_debits: Vec<&Value> =
        transactions.iter().filter(|t| t["bankTransactionCode"]["subFamily"] == "ISCT").collect();
    let amounts: Vec<&str> =
        instant_debits.iter().map(|t| t["transactionAmount"]["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts.len(), 2, "booked as SEPA instant transfers: {transactions:?}");
    assert!(amounts.contains(&"25.00") && amounts.contains(&"5.00"), "{amounts:?}");
    assert!(instant_debits.iter().all(|t| t["status"] == "BOOK" && t["creditDebitIndicator"] == "DBIT"));
    assert!(
        instant_debits.iter().all(|t| t["relatedParties"] == json!({"creditor": {"name": "Boulangerie Paul"}})),
        "the payee is the debit's creditor (1.4.2 on): {instant_debits:?}"
    );
    // The scheme's ceiling: 100,000.00 EUR.
    let (status, error, _) = p.post(ApiVersion::V1_6_2, &token, &instant("inst-3", "100000.01")).await;
    assert_eq!((status, error["message"].as_str()), (StatusCode::BAD_REQUEST, Some("FF01")), "{error}");
}

/// A debtor account given other than by its IBAN (an `other` identification, or nothing in it) is
/// refused 400 with the bank's reason code RR01, on every version, before anything is stored.
async fn a_debtor_not_named_by_its_iban_is_refused_rr01(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let by_other = json!({"other": {"identification": MARC_1_ID, "schemeName": "BANK"}});
    let both = json!({"iban": MARC_1, "other": {"identification": MARC_1_ID, "schemeName": "BANK"}});
    for version in [ApiVersion::V1, ApiVersion::V1_4_2, ApiVersion::V1_6_2] {
        for (n, debtor) in [by_other.clone(), json!({}), both.clone()].into_iter().enumerate() {
            let mut body = single(&format!("rr01-{n}"), "10.00", None);
            body["debtorAccount"] = debtor.clone();
            let (status, error, headers) = p.post(version, &token, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{version} {debtor}: {error}");
            assert_eq!(error["message"], "RR01", "{version} {debtor}: {error}");
            assert!(error["error"].as_str().unwrap().contains("debtorAccount"), "the field is named: {error}");
            assert!(headers.get("location").is_none());
        }
    }
    // The same request naming the IBAN is taken: the refusal was about the debtor's form only.
    let (status, created, _) = p.post(ApiVersion::V1_6_2, &token, &single("rr01-0", "10.00", Some(MARC_1))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

/// The availability statistics (RTS art. 32) count payment calls under their own family, `pis`,
/// errors included, and not under another interface's.
async fn payment_calls_are_counted_under_pis_in_the_statistics(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (id, _) = p.create(ApiVersion::V1_4_2, &token, &single("stats-1", "1.00", None)).await;
    p.get(ApiVersion::V1_6_2, &token, &id).await;
    let (refused, _, _) = p.post(ApiVersion::V1_4_2, &token, &single("stats-2", "0.00", None)).await;
    assert_eq!(refused, StatusCode::BAD_REQUEST);
    let (unknown, _, _) = p.call(Method::GET, "/stet/psd2/v1.4.2/payment-requests/PRNOSUCHREQUEST", &token, None).await;
    assert_eq!(unknown, StatusCode::NOT_FOUND);
    let response =
        p.app.client(BP).request(Method::GET, "/stet/psd2/statistics?period=2026-11-21").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    let families = &report["total"]["families"];
    assert_eq!(families["pis"]["requests"], 4, "create, read, a refusal, an unknown id: {report}");
    assert_eq!(families["pis"]["clientErrors"], 2, "{report}");
    assert_eq!(families["pis"]["serverErrors"].as_i64().unwrap_or(0), 0, "{report}");
    for other in ["ais", "funds"] {
        assert_eq!(families[other]["requests"].as_i64().unwrap_or(0), 0, "nothing counted under {other}: {report}");
    }
}

/// The PSU's token of one payment request (its approval through the authorization-code variant).
async fn psu_token_of(p: &Pisp, approval: &str) -> String {
    let link = format!(
        "{}&response_type=code&client_id={ORG}&redirect_uri={CALLBACK}",
        approval.split("&nonce=").next().unwrap()
    );
    let back = p.approve(&link, MARC, None).await;
    assert!(back.location.starts_with(CALLBACK), "{}", back.location);
    let exchanged = p.client.exchange_code(ORG, back.get("code").unwrap(), CALLBACK).await.unwrap();
    assert_eq!(exchanged.status(), StatusCode::OK);
    let tokens: stet_tpp::Tokens = exchanged.json().await.unwrap();
    assert_eq!(tokens.scope, "pisp");
    tokens.access_token
}

/// `/confirmation` takes either token kind on v1.6.2: the PSU's token of this payment confirms it
/// without nonce or factor. On v1.4.2 that token is refused there (403, the request left waiting):
/// it confirms through `/o-confirmation`.
async fn the_confirmation_takes_the_psus_token_on_v1_6_2_not_on_v1_4_2(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (id, approval) = p.create(ApiVersion::V1_6_2, &token, &single("either-1", "6.00", Some(MARC_1))).await;
    let psu = psu_token_of(&p, &approval).await;
    let (status, done) = p.confirm(ApiVersion::V1_6_2, &psu, &id, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");

    let (old, approval) = p.create(ApiVersion::V1_4_2, &token, &single("either-2", "7.00", Some(MARC_1))).await;
    let psu = psu_token_of(&p, &approval).await;
    let (status, refused) = p.confirm(ApiVersion::V1_4_2, &psu, &old, &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("o-confirmation"), "says where to go: {refused}");
    let waiting = p.get(ApiVersion::V1_4_2, &token, &old).await;
    assert_eq!(waiting["paymentRequest"]["paymentInformationStatus"], "ACTC", "nothing confirmed: {waiting}");
    let path = format!("/stet/psd2/v1.4.2/payment-requests/{old}/o-confirmation");
    let (status, done, _) = p.call(Method::POST, &path, &psu, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "the same token is good where 1.4.2 takes it: {done}");
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC");
}

/// The booked balance of account `resource` in the server's own ledger, as the hub moves it.
async fn booked(p: &Pisp, resource: &str) -> String {
    let bank = stet::BankCode::parse("13807").unwrap();
    let id = stet::ResourceId::parse(resource).unwrap();
    stetgate::ledger::Ledger::balances_of(&p.app.store, bank, &id, "2026-11-21".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .booked
        .amount_text()
}

/// A blocked debtor account ends the payment RJCT with AC06: named in the request (the approval
/// refuses it), or blocked by the bank between the confirmation and the payment's day (the hub
/// refuses it), and nothing is debited.
async fn a_payment_from_a_blocked_account_is_rejected_ac06(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let (named, approval) =
        p.create(ApiVersion::V1_6_2, &token, &single("blocked-1", "5.00", Some(CAMILLE_BLOCKED))).await;
    let back = p.approve(&approval, CAMILLE, None).await;
    assert!(back.location.starts_with(KO_URL), "back to the failure URL: {}", back.location);
    let status = p.get(ApiVersion::V1_6_2, &token, &named).await["paymentRequest"].clone();
    assert_eq!(
        (status["paymentInformationStatus"].as_str(), status["statusReasonInformation"].as_str()),
        (Some("RJCT"), Some("AC06")),
        "{status}"
    );

    let mut body = single("blocked-2", "9.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-24T00:00:00.000+01:00");
    let (later, (confirmed, _)) = p.approved_and_confirmed(ApiVersion::V1_6_2, &token, &body).await;
    assert_eq!(confirmed, StatusCode::OK);
    let before = booked(&p, MARC_1_ID).await;
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(p.app.db.url()).await.unwrap();
    sqlx::query("UPDATE accounts SET status = 'blocked' WHERE iban = $1")
        .bind(MARC_1)
        .execute(&mut connection)
        .await
        .unwrap();
    p.app.clock.set("2026-11-24T09:00:00Z".parse().unwrap());
    p.tick().await;
    let token = p.token().await;
    let done = p.get(ApiVersion::V1_6_2, &token, &later).await["paymentRequest"].clone();
    assert_eq!(
        (done["paymentInformationStatus"].as_str(), done["statusReasonInformation"].as_str()),
        (Some("RJCT"), Some("AC06")),
        "blocked by its day: {done}"
    );
    assert_eq!(done["creditTransferTransaction"][0]["transactionStatus"], "RJCT", "{done}");
    assert_eq!(booked(&p, MARC_1_ID).await, before, "nothing debited");
}

/// The `psuAuthenticationFactor` is bound to its payment request and its PISP: the factor of one
/// request does not confirm another of the same PSU, and another PISP cannot confirm the request
/// with it (not even find it); the refusals consume nothing, the right factor still confirms.
async fn a_factor_confirms_its_own_request_only(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let approved = async |id: &str| {
        let body = single(id, "2.00", Some(MARC_1));
        let (status, created, _) = p.post(ApiVersion::V1_6_2, &token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap().to_owned();
        let request = approval.split("paymentRequestResourceId=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let factor = factor(&p.approve(&approval, MARC, None).await);
        (request, created["nonce"].as_str().unwrap().to_owned(), factor)
    };
    let (a, a_nonce, a_factor) = approved("bound-a").await;
    let (b, b_nonce, b_factor) = approved("bound-b").await;
    let (status, error) = p
        .confirm(ApiVersion::V1_6_2, &token, &b, &json!({"nonce": b_nonce, "psuAuthenticationFactor": a_factor}))
        .await;
    assert_eq!(
        (status, error["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("FF01")),
        "A's factor on B: {error}"
    );
    assert_eq!(p.get(ApiVersion::V1_6_2, &token, &b).await["paymentRequest"]["paymentInformationStatus"], "ACTC");

    let (thief, their_token) = p.another_pisp("PSDFR-ACPR-99999").await;
    let stolen = thief
        .signed(Method::POST, &format!("/stet/psd2/v1.6.2/payment-requests/{a}/confirmation"))
        .bearer(&their_token)
        .json(&json!({"nonce": a_nonce, "psuAuthenticationFactor": a_factor}))
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND, "another PISP with A's nonce and factor");
    assert_eq!(p.get(ApiVersion::V1_6_2, &token, &a).await["paymentRequest"]["paymentInformationStatus"], "ACTC");

    for (id, nonce, factor) in [(&a, &a_nonce, &a_factor), (&b, &b_nonce, &b_factor)] {
        let (status, done) = p
            .confirm(ApiVersion::V1_6_2, &token, id, &json!({"nonce": nonce, "psuAuthenticationFactor": factor}))
            .await;
        assert_eq!(status, StatusCode::OK, "its own factor: {done}");
        assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");
    }
}

/// On v1.4.2 a future-dated payment is cancelled by a PUT with CANC and DS02: answered at once
/// (1.4.2 has no approach for it, so none is named), CANC DS02 on the request and its
/// instruction, and never executed on its day.
async fn a_future_payment_is_cancelled_on_v1_4_2(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let mut body = single("cancel-142", "8.00", Some(MARC_1));
    body["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-25T00:00:00.000+01:00");
    let (id, (status, confirmed)) = p.approved_and_confirmed(ApiVersion::V1_4_2, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let before = booked(&p, MARC_1_ID).await;
    let (status, answer) = p.cancel(ApiVersion::V1_4_2, &token, &id).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.get("appliedAuthenticationApproach").is_none(), "1.4.2 names no approach: {answer}");
    let cancelled = p.get(ApiVersion::V1_4_2, &token, &id).await["paymentRequest"].clone();
    assert_eq!(
        (cancelled["paymentInformationStatus"].as_str(), cancelled["statusReasonInformation"].as_str()),
        (Some("CANC"), Some("DS02")),
        "{cancelled}"
    );
    assert_eq!(cancelled["creditTransferTransaction"][0]["transactionStatus"], "CANC", "{cancelled}");
    p.app.clock.set("2026-11-25T09:00:00Z".parse().unwrap());
    p.tick().await;
    let token = p.token().await;
    assert_eq!(p.get(ApiVersion::V1_4_2, &token, &id).await["paymentRequest"]["paymentInformationStatus"], "CANC");
    assert_eq!(booked(&p, MARC_1_ID).await, before, "never executed");
}

/// A bulk payment without `batchBooking` executes each instruction on its own: one debit per
/// instruction in AIS, each instruction ACSC; where the funds cover one instruction and not the
/// next, the first is paid, the second rejected (CUST) and the request is PART. With
/// `batchBooking` the same two instructions are one debit of their total.
async fn a_bulk_payment_executes_each_instruction(db: TestDb) {
    let p = pisp(db).await;
    let token = p.token().await;
    let bulk = |id: &str, debtor: &str, amounts: [&str; 2]| {
        let mut body = single(id, amounts[0], Some(debtor));
        body["numberOfTransactions"] = json!(2);
        let mut second = body["creditTransferTransaction"][0].clone();
        second["paymentId"] = json!({"instructionId": format!("{id}-2"), "endToEndId": format!("{id}-e2e-2")});
        second["instructedAmount"]["amount"] = json!(amounts[1]);
        second["remittanceInformation"] = json!(["Commande 43"]);
        body["creditTransferTransaction"].as_array_mut().unwrap().push(second);
        body
    };
    let pay = async |body: &Value, psu: &str| {
        let (id, approval) = p.create(ApiVersion::V1_6_2, &token, body).await;
        let back = p.approve(&approval, psu, None).await;
        let nonce = p.post(ApiVersion::V1_6_2, &token, body).await.1["nonce"].clone();
        let (status, done) = p
            .confirm(
                ApiVersion::V1_6_2,
                &token,
                &id,
                &json!({"nonce": nonce, "psuAuthenticationFactor": factor(&back)}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        done["paymentRequest"].clone()
    };
    let (before, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let done = pay(&bulk("bulk-1", MARC_1, ["3.00", "4.00"]), MARC).await;
    assert_eq!(done["paymentInformationStatus"], "ACSC", "{done}");
    let statuses: Vec<&Value> =
        done["creditTransferTransaction"].as_array().unwrap().iter().map(|t| &t["transactionStatus"]).collect();
    assert_eq!(statuses, [&json!("ACSC"), &json!("ACSC")], "each instruction: {done}");
    let (after, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&before) - cents(&after), 700, "{before} -> {after}");
    let mut debits: Vec<&str> = transactions
        .iter()
        .filter(|t| t["remittanceInformation"].to_string().contains("Boulangerie Paul"))
        .map(|t| t["transactionAmount"]["amount"].as_str().unwrap())
        .collect();
    debits.sort();
    assert_eq!(debits, ["3.00", "4.00"], "one debit per instruction: {transactions:?}");

    // Camille's open account holds 100.00 EUR, no overdraft: 60.00 then 70.00.
    let camille_before = booked(&p, CAMILLE_OPEN_ID).await;
    let done = pay(&bulk("bulk-2", CAMILLE_OPEN, ["60.00", "70.00"]), CAMILLE).await;
    assert_eq!(done["paymentInformationStatus"], "PART", "{done}");
    let first = &done["creditTransferTransaction"][0];
    let second = &done["creditTransferTransaction"][1];
    assert_eq!(first["transactionStatus"], "ACSC", "{done}");
    assert_eq!(
        (second["transactionStatus"].as_str(), second["statusReasonInformation"].as_str()),
        (Some("RJCT"), Some("CUST")),
        "{done}"
    );
    let cents = |s: &str| (s.parse::<f64>().unwrap() * 100.0).round() as i64;
    assert_eq!(cents(&camille_before) - cents(&booked(&p, CAMILLE_OPEN_ID).await), 6000, "the first instruction only");

    let mut batch = bulk("bulk-3", MARC_1, ["3.00", "4.00"]);
    batch["batchBooking"] = json!(true);
    let done = pay(&batch, MARC).await;
    assert_eq!(done["paymentInformationStatus"], "ACSC", "{done}");
    let (_, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    let batched: Vec<&Value> =
        transactions.iter().filter(|t| t["remittanceInformation"].to_string().contains("REMISE 2 VIREMENTS")).collect();
    assert_eq!(batched.len(), 1, "one debit for the batch: {transactions:?}");
    assert_eq!(batched[0]["transactionAmount"]["amount"], "7.00");
    assert!(batched[0].get("relatedParties").is_none(), "a batch's debit pays several creditors, names none");
}

db_tests!(
    the_whole_walk_on_v1_6_2_debits_the_account_seen_in_ais,
    nothing_executes_before_the_pisps_confirmation,
    v1_executes_on_approval_and_answers_405_to_put_and_confirmation,
    refusals_carry_the_stet_reason_code,
    the_same_request_twice_is_one_request,
    refused_expired_and_failed_approvals_are_rejected_with_their_reason,
    the_hub_refuses_insufficient_funds_and_a_closed_account,
    two_simultaneous_confirmations_execute_once,
    a_wrong_factor_or_nonce_is_refused,
    the_o_confirmation_variant_confirms_with_the_psus_token,
    tokens_of_one_service_are_refused_by_the_other,
    a_future_payment_waits_for_its_paris_day_across_the_dst_change,
    a_future_payment_can_be_cancelled_before_its_day,
    a_withdrawal_stops_the_pisps_pending_payments,
    a_standing_order_executes_on_each_day_and_lists_its_executions,
    a_standing_order_moves_off_weekends_and_stops_once_cancelled,
    another_pisps_request_is_not_found,
    an_instant_payment_executes_at_once,
    a_debtor_not_named_by_its_iban_is_refused_rr01,
    payment_calls_are_counted_under_pis_in_the_statistics,
    the_confirmation_takes_the_psus_token_on_v1_6_2_not_on_v1_4_2,
    a_payment_from_a_blocked_account_is_rejected_ac06,
    a_factor_confirms_its_own_request_only,
    a_future_payment_is_cancelled_on_v1_4_2,
    a_bulk_payment_executes_each_instruction,
    two_nodes_running_the_scheduler_execute_once,
);

/// `stet-tpp pay` (the binary beside `stetgate`, built by scripts/test.sh before the tests) walks a
/// payment through on the sandbox as a TPP developer runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stet_tpp_pay_walks_a_payment_through() {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_stetgate")).with_file_name("stet-tpp");
    if !binary.exists() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true: build stet-tpp before the tests");
        eprintln!("note: {} is not built; skipping the stet-tpp pay walk", binary.display());
        return;
    }
    let p = pisp(TestDb::sqlite()).await;
    let certs = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("qwac.pem", &p.tpp.qwac.cert_pem),
        ("qwac.key", &p.tpp.qwac.key_pem),
        ("qseal.pem", &p.tpp.qseal.cert_pem),
        ("qseal.key", &p.tpp.qseal.key_pem),
    ] {
        std::fs::write(certs.path().join(name), text).unwrap();
    }
    let ca = certs.path().join("ca.pem");
    std::fs::write(&ca, &p.app.ca_pem).unwrap();
    let url = format!("https://{BP}:{}", p.app.addr.port());
    let output = tokio::process::Command::new(&binary)
        .args(["pay", "--url", &url, "--cacert", ca.to_str().unwrap(), "--certs", certs.path().to_str().unwrap()])
        .args(["--psu", MARC, "--amount", "3.10", "--payee", "Boulangerie Paul", "--payee-iban", PAYEE])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"paymentInformationStatus\": \"ACSC\""), "{stdout}");
    assert!(stderr.contains("confirming"), "{stderr}");
}
