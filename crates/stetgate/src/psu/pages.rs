//! The bank's pages the PSU sees on every journey (authorization, fallback online banking):
//! rendered on the server (askama, escaped by default), plain forms that work without JavaScript,
//! labelled fields, no external assets, named and coloured for the bank so the PSU sees which bank
//! is asking. French unless the browser prefers English.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page texts in one language.
pub struct Texts {
    pub lang: &'static str,
    pub title: &'static str,
    pub bank_code: &'static str,
    pub identify_title: &'static str,
    pub request_from: &'static str,
    pub access_to: &'static str,
    pub psu_id_label: &'static str,
    pub continue_button: &'static str,
    pub cancel_button: &'static str,
    pub confirm_button: &'static str,
    pub authenticate_title: &'static str,
    pub code_sent: &'static str,
    pub code_sent_email: &'static str,
    pub sandbox_code: &'static str,
    pub otp_label: &'static str,
    pub otp_label_email: &'static str,
    pub consent_title: &'static str,
    pub consent_intro: &'static str,
    pub accounts_legend: &'static str,
    pub error_title: &'static str,
    pub unavailable_title: &'static str,
    pub error_advice: &'static str,
    pub scope_aisp: &'static str,
    pub scope_funds: &'static str,
    pub wrong_id: &'static str,
    pub wrong_code: &'static str,
    pub attempts_left: &'static str,
    pub choose_account: &'static str,
    pub maintenance: &'static str,
    pub unavailable: &'static str,
    pub too_many: &'static str,
    pub certified_as: &'static str,
    pub online_title: &'static str,
    pub accounts_title: &'static str,
    pub balance_label: &'static str,
    pub instant_balance_label: &'static str,
    pub transactions_title: &'static str,
    pub date_label: &'static str,
    pub description_label: &'static str,
    pub amount_label: &'static str,
    pub status_label: &'static str,
    pub pending: &'static str,
    pub back_to_accounts: &'static str,
    pub sign_out: &'static str,
    pub signed_out: &'static str,
    pub fallback_refused: &'static str,
    pub session_expired: &'static str,
    pub payment_title: &'static str,
    pub payment_requested_by: &'static str,
    pub payee_label: &'static str,
    pub execution_date_label: &'static str,
    pub schedule_label: &'static str,
    pub debtor_label: &'static str,
    pub debtor_title: &'static str,
    pub debtor_legend: &'static str,
    pub approve_button: &'static str,
    pub payment_code_sent: &'static str,
    pub payment_code_sent_email: &'static str,
    pub payment_unknown: &'static str,
    pub payment_no_account: &'static str,
    pub beneficiaries: &'static str,
    pub access_title: &'static str,
    pub access_login_title: &'static str,
    pub access_intro: &'static str,
    pub access_none: &'static str,
    pub role_aisp: &'static str,
    pub role_cbpii: &'static str,
    pub role_pisp: &'static str,
    pub since_label: &'static str,
    pub until_label: &'static str,
    pub last_used_label: &'static str,
    pub no_accounts_yet: &'static str,
    pub never_used: &'static str,
    pub shared_balances: &'static str,
    pub shared_transactions: &'static str,
    pub shared_overdrafts: &'static str,
    pub shared_funds: &'static str,
    pub identity_shared: &'static str,
    pub withdraw_button: &'static str,
    pub withdraw_title: &'static str,
    pub withdraw_text: &'static str,
    pub withdrawals_title: &'static str,
    /// The dashboard's column headers: accounts, payments, withdrawals.
    pub account_column: &'static str,
    pub shared_column: &'static str,
    pub payment_column: &'static str,
    pub amount_column: &'static str,
    pub status_column: &'static str,
    pub when_column: &'static str,
    pub provider_column: &'static str,
    pub access_column: &'static str,
    pub by_column: &'static str,
    pub withdrawn_by_psu: &'static str,
    pub withdrawn_by_support: &'static str,
    pub payments_label: &'static str,
    pub withdraw_also: &'static str,
    pub nothing_to_withdraw: &'static str,
    pub foreign_form: &'static str,
    pub withdraw_incomplete: &'static str,
    pub provider_refused: &'static str,
    pub provider_unknown_psu: &'static str,
    pub provider_foreign: &'static str,
}

pub const FRENCH: Texts = Texts {
    lang: "fr",
    title: "Autorisation d'accès",
    bank_code: "Code banque",
    identify_title: "Identifiez-vous",
    request_from: "Demande d'accès de",
    access_to: "Pour :",
    psu_id_label: "Identifiant client",
    continue_button: "Valider",
    cancel_button: "Annuler",
    confirm_button: "Confirmer",
    authenticate_title: "Authentification",
    code_sent: "Si cet identifiant est le vôtre, un code à usage unique vous a été envoyé par SMS au numéro que votre banque connaît.",
    code_sent_email: "Si cet identifiant est le vôtre, un code à usage unique vous a été envoyé par e-mail à l'adresse que votre banque connaît.",
    sandbox_code: "Bac à sable : le code de tous les utilisateurs de test est",
    otp_label: "Code reçu par SMS",
    otp_label_email: "Code reçu par e-mail",
    consent_title: "Choix des comptes",
    consent_intro: "Choisissez les comptes dont la disponibilité des fonds pourra être confirmée à",
    accounts_legend: "Vos comptes",
    error_title: "Demande d'autorisation invalide",
    unavailable_title: "Service momentanément indisponible",
    error_advice: "Revenez à l'application qui vous a dirigé ici et recommencez.",
    scope_aisp: "consultation de vos comptes, soldes et opérations",
    scope_funds: "confirmation de la disponibilité des fonds",
    wrong_id: "Identifiant ou code incorrect.",
    wrong_code: "Identifiant ou code incorrect.",
    attempts_left: "Essais restants :",
    choose_account: "Choisissez au moins un compte.",
    maintenance: "Le service est en maintenance programmée. Il sera de nouveau disponible à",
    unavailable: "Le service est momentanément indisponible. Réessayez dans quelques instants.",
    too_many: "Trop de demandes depuis votre connexion. Réessayez dans une minute.",
    certified_as: "certificat au nom de",
    online_title: "Banque en ligne",
    accounts_title: "Mes comptes",
    balance_label: "Solde comptable",
    instant_balance_label: "Solde instantané",
    transactions_title: "Opérations des 90 derniers jours",
    date_label: "Date",
    description_label: "Libellé",
    amount_label: "Montant",
    status_label: "État",
    pending: "à venir",
    back_to_accounts: "Retour à mes comptes",
    sign_out: "Se déconnecter",
    signed_out: "Vous êtes déconnecté.",
    fallback_refused: "Ce lien d'accès est invalide, expiré ou déjà utilisé.",
    session_expired: "Votre session a expiré ou n'existe pas. Reconnectez-vous depuis l'application qui vous a dirigé ici.",
    payment_title: "Validation d'un paiement",
    payment_requested_by: "Paiement demandé par",
    payee_label: "Bénéficiaire",
    execution_date_label: "Date d'exécution",
    schedule_label: "Périodicité",
    debtor_label: "Compte débité",
    debtor_title: "Compte à débiter",
    debtor_legend: "Choisissez le compte à débiter",
    approve_button: "Valider le paiement",
    payment_code_sent: "Si cet identifiant est le vôtre, un code à usage unique lié à ce montant et à ce bénéficiaire vous a été envoyé par SMS.",
    payment_code_sent_email: "Si cet identifiant est le vôtre, un code à usage unique lié à ce montant et à ce bénéficiaire vous a été envoyé par e-mail.",
    payment_unknown: "Cette demande de paiement est inconnue, expirée ou déjà traitée.",
    payment_no_account: "Aucun de vos comptes ne peut être débité de ce paiement.",
    beneficiaries: "bénéficiaires",
    access_title: "Accès de tiers à vos comptes",
    access_login_title: "Vos accès tiers",
    access_intro: "Les prestataires ci-dessous peuvent accéder à vos comptes parce que vous les y avez autorisés. Vous pouvez retirer chaque autorisation : elle cesse aussitôt.",
    access_none: "Aucun prestataire n'a accès à vos comptes.",
    role_aisp: "Consultation de vos comptes",
    role_cbpii: "Confirmation de la disponibilité des fonds",
    role_pisp: "Initiation de paiements",
    since_label: "Depuis le",
    until_label: "Jusqu'au",
    last_used_label: "Dernière utilisation :",
    no_accounts_yet: "Aucun compte choisi pour l'instant : le prestataire ne voit que la liste de vos comptes.",
    never_used: "jamais",
    shared_balances: "soldes",
    shared_transactions: "opérations",
    shared_overdrafts: "découvert autorisé",
    shared_funds: "disponibilité des fonds",
    identity_shared: "Votre identité (nom et prénom) est partagée.",
    withdraw_button: "Retirer cet accès",
    withdraw_title: "Retirer l'accès",
    withdraw_text: "Ce prestataire perdra aussitôt cet accès. Pour le lui rendre, il devra vous redemander votre autorisation.",
    withdrawals_title: "Accès retirés",
    account_column: "Compte",
    shared_column: "Partagé",
    payment_column: "Bénéficiaire et date",
    amount_column: "Montant",
    status_column: "État",
    when_column: "Date",
    provider_column: "Prestataire",
    access_column: "Accès",
    by_column: "Retiré",
    withdrawn_by_psu: "par vous",
    withdrawn_by_support: "par votre banque, à votre demande",
    payments_label: "Paiements en cours",
    withdraw_also: "La même autorisation donne aussi l'accès suivant, qui sera retiré avec :",
    nothing_to_withdraw: "Ce prestataire n'avait plus cet accès : il n'y avait rien à retirer.",
    foreign_form: "Ce formulaire n'appartient pas à votre session.",
    withdraw_incomplete: "Choisissez un prestataire et un accès à retirer.",
    provider_refused: "Votre authentification auprès de votre banque n'a pas pu être vérifiée, ou n'était pas une authentification forte. Recommencez depuis l'application qui vous a dirigé ici.",
    provider_unknown_psu: "Votre identité a bien été vérifiée, mais elle ne correspond à aucun client de la banque en ligne de cette banque. Revenez à l'application qui vous a dirigé ici.",
    provider_foreign: "Cette réponse de votre banque n'appartient pas à votre session, ou a déjà été utilisée.",
};

pub const ENGLISH: Texts = Texts {
    lang: "en",
    title: "Access authorization",
    bank_code: "Bank code",
    identify_title: "Sign in",
    request_from: "Access requested by",
    access_to: "To:",
    psu_id_label: "Customer ID",
    continue_button: "Continue",
    cancel_button: "Cancel",
    confirm_button: "Confirm",
    authenticate_title: "Authentication",
    code_sent: "If this id is yours, a one-time code has been sent by SMS to the number your bank holds.",
    code_sent_email: "If this id is yours, a one-time code has been sent by e-mail to the address your bank holds.",
    sandbox_code: "Sandbox: the code of every test user is",
    otp_label: "Code received by SMS",
    otp_label_email: "Code received by e-mail",
    consent_title: "Choose accounts",
    consent_intro: "Choose the accounts whose available funds may be confirmed to",
    accounts_legend: "Your accounts",
    error_title: "Invalid authorization request",
    unavailable_title: "Service temporarily unavailable",
    error_advice: "Go back to the application that sent you here and start again.",
    scope_aisp: "view your accounts, balances and transactions",
    scope_funds: "confirm the availability of funds",
    wrong_id: "Incorrect customer ID or code.",
    wrong_code: "Incorrect customer ID or code.",
    attempts_left: "Attempts left:",
    choose_account: "Choose at least one account.",
    maintenance: "The service is under planned maintenance. It will be back at",
    unavailable: "The service is temporarily unavailable. Please try again in a few moments.",
    too_many: "Too many requests from your connection. Please try again in a minute.",
    certified_as: "certificate issued to",
    online_title: "Online banking",
    accounts_title: "My accounts",
    balance_label: "Booked balance",
    instant_balance_label: "Instant balance",
    transactions_title: "Transactions of the last 90 days",
    date_label: "Date",
    description_label: "Description",
    amount_label: "Amount",
    status_label: "Status",
    pending: "pending",
    back_to_accounts: "Back to my accounts",
    sign_out: "Sign out",
    signed_out: "You are signed out.",
    fallback_refused: "This access link is invalid, expired or already used.",
    session_expired: "Your session expired or does not exist. Sign in again from the application that sent you here.",
    payment_title: "Payment approval",
    payment_requested_by: "Payment requested by",
    payee_label: "Payee",
    execution_date_label: "Execution date",
    schedule_label: "Frequency",
    debtor_label: "Account debited",
    debtor_title: "Account to debit",
    debtor_legend: "Choose the account to debit",
    approve_button: "Approve the payment",
    payment_code_sent: "If this id is yours, a one-time code bound to this amount and payee has been sent by SMS.",
    payment_code_sent_email: "If this id is yours, a one-time code bound to this amount and payee has been sent by e-mail.",
    payment_unknown: "This payment request is unknown, expired or already handled.",
    payment_no_account: "None of your accounts can be debited for this payment.",
    beneficiaries: "payees",
    access_title: "Third-party access to your accounts",
    access_login_title: "Your third-party access",
    access_intro: "The providers below can reach your accounts because you authorized them. You can withdraw each authorization: it stops at once.",
    access_none: "No provider has access to your accounts.",
    role_aisp: "Account information",
    role_cbpii: "Confirmation of available funds",
    role_pisp: "Payment initiation",
    since_label: "Since",
    until_label: "Until",
    last_used_label: "Last used:",
    no_accounts_yet: "No account chosen yet: the provider sees only the list of your accounts.",
    never_used: "never",
    shared_balances: "balances",
    shared_transactions: "transactions",
    shared_overdrafts: "authorised overdraft",
    shared_funds: "available funds",
    identity_shared: "Your identity (first and last name) is shared.",
    withdraw_button: "Withdraw this access",
    withdraw_title: "Withdraw access",
    withdraw_text: "This provider will lose this access at once. To get it back, it will have to ask for your authorization again.",
    withdrawals_title: "Withdrawn access",
    account_column: "Account",
    shared_column: "Shared",
    payment_column: "Payee and date",
    amount_column: "Amount",
    status_column: "Status",
    when_column: "Date",
    provider_column: "Provider",
    access_column: "Access",
    by_column: "Withdrawn",
    withdrawn_by_psu: "by you",
    withdrawn_by_support: "by your bank, at your request",
    payments_label: "Payments in progress",
    withdraw_also: "The same authorization also gives this access, which is withdrawn with it:",
    nothing_to_withdraw: "This provider no longer had this access: there was nothing to withdraw.",
    foreign_form: "This form does not belong to your session.",
    withdraw_incomplete: "Choose a provider and an access to withdraw.",
    provider_refused: "Your authentication at your bank could not be verified, or was not a strong authentication. Start again from the application that sent you here.",
    provider_unknown_psu: "Your identity was verified, but it matches no online-banking customer of this bank. Go back to the application that sent you here.",
    provider_foreign: "This answer from your bank does not belong to your session, or was already used.",
};

/// French unless `Accept-Language` ranks English above French.
pub fn texts_for(headers: &HeaderMap) -> &'static Texts {
    let header = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (mut fr, mut en) = (0.0f32, 0.0f32);
    for (i, item) in header.split(',').enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
            .unwrap_or(1.0)
            // Earlier entries win ties, as browsers list them by preference.
            - i as f32 * 1e-4;
        let primary = tag.split('-').next().unwrap_or("");
        if primary == "fr" {
            fr = fr.max(q);
        } else if primary == "en" {
            en = en.max(q);
        }
    }
    if en > fr { &ENGLISH } else { &FRENCH }
}

/// What every page shows about the bank.
pub struct BankLook {
    pub name: String,
    pub code: String,
    pub color: &'static str,
    /// The bank's one-time codes travel by e-mail (the pages say so), not by SMS.
    pub codes_by_email: bool,
}

/// The look of `bank`'s pages, with how its codes reach the PSU.
pub fn look(state: &crate::state::AppState, bank: &crate::edge::bank::Bank) -> BankLook {
    let mut look = BankLook::new(&bank.0.name, bank.0.code.as_str(), &bank.0.brand);
    look.codes_by_email = state.authenticator.code_method(bank.code()) == super::model::ScaMethod::Email;
    look
}

impl BankLook {
    pub fn new(name: &str, code: &str, brand: &str) -> BankLook {
        let color = match brand {
            "caisse-epargne" => "#c8102e",
            "banque-populaire" => "#0b4a96",
            "btp-banque" => "#e0730b",
            "credit-cooperatif" => "#00805c",
            "palatine" => "#2b2b6e",
            _ => "#4a4a4a",
        };
        BankLook { name: name.to_owned(), code: code.to_owned(), color, codes_by_email: false }
    }
}

/// What every page shows around its content: the language and the bank.
pub(crate) struct Frame<'a> {
    pub t: &'a Texts,
    pub bank_name: &'a str,
    pub bank_code: &'a str,
    pub brand_color: &'a str,
    pub codes_by_email: bool,
}

impl Frame<'_> {
    /// "A code was sent", naming the bank's channel.
    pub fn code_sent(&self) -> &'static str {
        if self.codes_by_email { self.t.code_sent_email } else { self.t.code_sent }
    }

    pub fn otp_label(&self) -> &'static str {
        if self.codes_by_email { self.t.otp_label_email } else { self.t.otp_label }
    }

    pub fn payment_code_sent(&self) -> &'static str {
        if self.codes_by_email { self.t.payment_code_sent_email } else { self.t.payment_code_sent }
    }
}

#[derive(Template)]
#[template(path = "identify.html")]
struct IdentifyPage<'a> {
    frame: Frame<'a>,
    tpp: &'a TppShown<'a>,
    scope_text: String,
    csrf: &'a str,
    action: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "authenticate.html")]
struct AuthenticatePage<'a> {
    frame: Frame<'a>,
    sandbox: bool,
    csrf: &'a str,
    action: &'a str,
    error: Option<String>,
}

/// An account offered on the choice page.
pub struct AccountChoice {
    pub resource_id: String,
    pub iban: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage<'a> {
    frame: Frame<'a>,
    tpp: &'a TppShown<'a>,
    intro: &'a str,
    action: &'a str,
    accounts: &'a [AccountChoice],
    csrf: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: Frame<'a>,
    /// The heading: the request was wrong (4xx), or the bank could not serve it (5xx).
    title: &'static str,
    message: &'a str,
}

pub struct PageContext<'a> {
    pub t: &'static Texts,
    pub bank: &'a BankLook,
    pub csrf: &'a str,
    /// Where the page's form posts to.
    pub action: &'a str,
}

impl PageContext<'_> {
    fn frame(&self) -> Frame<'_> {
        frame(self.t, self.bank)
    }
}

pub(crate) fn frame<'a>(t: &'a Texts, bank: &'a BankLook) -> Frame<'a> {
    Frame {
        t,
        bank_name: &bank.name,
        bank_code: &bank.code,
        brand_color: bank.color,
        codes_by_email: bank.codes_by_email,
    }
}

/// Who is asking, as the PSU sees it: the name the TPP chose, and beside it the organisation name
/// its QWAC certifies (a TPP cannot rename itself "the bank" unnoticed) and its authorization number.
pub struct TppShown<'a> {
    pub name: &'a str,
    pub organization: Option<&'a str>,
    pub client_id: &'a str,
}

impl<'a> TppShown<'a> {
    pub fn of(registration: &'a crate::registry::model::Registration) -> TppShown<'a> {
        TppShown {
            name: &registration.client_name,
            organization: registration.qwac_organization.as_deref(),
            client_id: registration.org_id.as_str(),
        }
    }
}

pub fn identify(ctx: &PageContext<'_>, tpp: &TppShown<'_>, scope_text: String, error: Option<String>) -> Response {
    html(
        StatusCode::OK,
        IdentifyPage { frame: ctx.frame(), tpp, scope_text, csrf: ctx.csrf, action: ctx.action, error }.render(),
    )
}

/// The authentication page: the same for a known and an unknown id (no masked phone); the sandbox
/// shows its published code.
pub fn authenticate(ctx: &PageContext<'_>, sandbox: bool, error: Option<String>) -> Response {
    html(
        StatusCode::OK,
        AuthenticatePage { frame: ctx.frame(), sandbox, csrf: ctx.csrf, action: ctx.action, error }.render(),
    )
}

/// The page where the PSU chooses accounts for the TPP (`intro` says for what).
pub fn choose(
    ctx: &PageContext<'_>,
    tpp: &TppShown<'_>,
    intro: &str,
    accounts: &[AccountChoice],
    error: Option<String>,
) -> Response {
    html(
        StatusCode::OK,
        ChoosePage { frame: ctx.frame(), tpp, intro, action: ctx.action, accounts, csrf: ctx.csrf, error }.render(),
    )
}

/// Route layer of the PSU's pages: an error any of them returns as an `ApiError` (planned
/// maintenance, an infrastructure failure, an internal error) is shown as the bank's HTML page,
/// never as JSON; its status, `Retry-After` and logged cause are kept.
pub async fn html_errors(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let t = texts_for(request.headers());
    let bank = request
        .extensions()
        .get::<crate::edge::bank::Bank>()
        .map(|b| BankLook::new(&b.0.name, b.code().as_str(), &b.0.brand));
    let mut response = next.run(request).await;
    let Some(body) = response.extensions_mut().remove::<crate::edge::error::ErrorBody>() else { return response };
    let look = bank.unwrap_or_else(|| BankLook::new("", "", ""));
    let maintenance = response.extensions().get::<crate::statistics::model::PlannedMaintenance>().copied();
    let message = match maintenance {
        Some(m) => {
            let until = m.until.to_zoned(state.calendar.time_zone().clone()).strftime("%H:%M");
            format!("{} {until} (Europe/Paris).", t.maintenance)
        }
        None if response.status().is_server_error() => t.unavailable.to_owned(),
        None => body.error.clone(),
    };
    let mut page = error(t, &look, response.status(), &message);
    if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
        page.headers_mut().insert(header::RETRY_AFTER, retry.clone());
    }
    if let Some(cause) = response.extensions_mut().remove::<crate::edge::error::InternalCause>() {
        page.extensions_mut().insert(cause);
    }
    if let Some(m) = maintenance {
        page.extensions_mut().insert(m);
    }
    page
}

/// The pages anyone may open count per source address (`connections.pages_per_address_per_minute`):
/// `Some(429 page)` once this one's address is over the limit.
pub fn over_page_limit(
    state: &crate::state::AppState,
    peer: Option<std::net::IpAddr>,
    t: &'static Texts,
    bank: &BankLook,
) -> Option<Response> {
    let peer = peer?;
    let now = state.clock.now().as_millisecond();
    if state.page_limiter.allow(peer, now) {
        return None;
    }
    let mut page = error(t, bank, StatusCode::TOO_MANY_REQUESTS, t.too_many);
    let retry = crate::edge::rate::PerAddress::retry_after_secs(now);
    if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(page)
}

/// A page that ends the flow without redirecting (the redirect URI cannot be trusted).
pub fn error(t: &'static Texts, bank: &BankLook, status: StatusCode, message: &str) -> Response {
    let title = if status.is_server_error() { t.unavailable_title } else { t.error_title };
    html(status, ErrorPage { frame: frame(t, bank), title, message }.render())
}

pub(crate) fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
            );
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Err(e) => crate::edge::error::ApiError::Internal(format!("page rendering: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_accept_language() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(texts_for(&HeaderMap::new()).lang, "fr", "French by default");
        assert_eq!(texts_for(&h("en-GB,en;q=0.9")).lang, "en");
        assert_eq!(texts_for(&h("fr-FR,fr;q=0.9,en;q=0.8")).lang, "fr");
        assert_eq!(texts_for(&h("de-DE,en;q=0.5")).lang, "en");
        assert_eq!(texts_for(&h("de-DE")).lang, "fr");
        assert_eq!(texts_for(&h("en;q=0.4,fr;q=0.6")).lang, "fr");
    }

    #[test]
    fn pages_escape_what_they_show() {
        let bank = BankLook::new("Caisse <d'Epargne>", "17515", "caisse-epargne");
        let ctx = PageContext { t: &FRENCH, bank: &bank, csrf: "c", action: "/stet/psd2/oauth/authorize" };
        let tpp = TppShown {
            name: "<script>alert(1)</script>",
            organization: Some("Caisse d'Epargne <officielle>"),
            client_id: "PSDFR-ACPR-1",
        };
        let response = identify(&ctx, &tpp, "x".into(), None);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let body = futures_body(response);
        assert!(!body.contains("<script>alert(1)") && !body.contains("<officielle>"), "{body}");
        assert!(body.contains("&#60;script&#62;"), "escaped: {body}");
        assert!(body.contains("certificat au nom de"), "the certified name is shown beside the chosen one");
        assert!(body.contains("for=\"psu_id\""), "labelled field");
    }

    fn futures_body(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        })
    }
}
