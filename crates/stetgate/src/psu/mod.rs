//! The PSU's journey in the bank's pages, once for every purpose (the OAuth authorization, the
//! fallback's online banking, and next the approval of a payment): identification, strong
//! customer authentication through the bank's [`PsuAuthenticator`], an optional choice the purpose
//! makes, then approved, refused or expired (PSD2 art. 97; RTS art. 4).
//!
//! One mechanism for all of them:
//! - **the browser** holds a random secret in an HttpOnly, Secure, SameSite=Lax cookie; the store
//!   keeps the journey under its hash; every form carries a CSRF token derived from the secret;
//! - **one expiry** per journey, and **one attempt limit**: [`MAX_ATTEMPTS`] wrong ids or codes
//!   refuse it; the counter is incremented atomically, so simultaneous wrong codes all count;
//! - **compare-and-set** changes: a journey changes only from the version a decision was made on,
//!   so two posts racing cannot both move it (the right code after the third failure does not pass);
//! - **a lock per PSU** across journeys and purposes: [`LOCK_AFTER`] failed authentications of one
//!   PSU at one bank within [`LOCK_WINDOW`] lock it for [`LOCK_DURATION`];
//! - **the same answer for a known and an unknown id**: both get the authentication page (without
//!   the masked phone); only the code, which fails for an unknown id, tells them apart.
//!
//! The purposes keep their own data in the journey's `context` and decide what approval means
//! (a code and a redirect, an online-banking session); this module never calls back into them.
//!
//! When the bank's authenticator redirects (its OpenID provider), identification and
//! authentication happen on the provider's pages instead: [`oidc_journey`].

pub mod authenticator;
pub mod gateway;
pub mod model;
pub mod oidc;
pub mod oidc_journey;
pub mod oidc_token;
pub mod pages;

pub use authenticator::{ChallengeContext, PsuAuthenticator};
pub use model::{Journey, Purpose, Stage};

use crate::edge::error::ApiError;
use crate::ledger::{Psu, PsuId};
use crate::secret::{self, Secret, hash_secret, same_secret};
use crate::state::AppState;
use authenticator::{AuthenticatorError, Verification};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use stet::{BankCode, OrgId};

/// Wrong ids or codes a journey allows; the last one refuses it.
pub const MAX_ATTEMPTS: i64 = 3;
/// Failed authentications of one PSU at one bank, whatever the journey or purpose, that lock it.
pub const LOCK_AFTER: i64 = 5;
/// Messages (one-time codes) sent to one PSU in a quarter hour, at most.
pub const MAX_CODES_SENT: i64 = 5;
/// The window those failures are counted in.
pub const LOCK_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// How long the lock lasts.
pub const LOCK_DURATION: SignedDuration = SignedDuration::from_mins(15);

/// The cookie of a journey (one per purpose: each has its own path).
const COOKIE: &str = "stetgate_journey";

impl Purpose {
    /// Where the purpose's pages live: the cookie's path.
    pub fn cookie_path(self) -> &'static str {
        match self {
            Purpose::Authorize => "/stet/psd2/oauth",
            Purpose::Fallback => "/online-banking",
            Purpose::Payment => "/stet/psd2/pisp",
            Purpose::Dashboard => "/psu",
        }
    }
}

/// A journey and the secret of this browser's cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub journey: Journey,
    secret: Secret,
}

impl Session {
    /// The CSRF token of the journey's forms: derived from the cookie's secret, so neither stored
    /// nor guessable by a page that cannot read the cookie.
    pub fn csrf(&self) -> String {
        hash_secret(&format!("csrf:{}", self.secret.expose()))
    }

    /// Hands the browser the journey's cookie, for as long as the journey lives.
    pub fn set_cookie(&self, response: &mut Response, now: Timestamp) {
        let max_age = self.journey.expires_at.duration_since(now).as_secs().max(0);
        secret::set_secret_cookie(response, COOKIE, &self.secret, self.journey.purpose.cookie_path(), max_age);
    }

    /// Tells the browser to forget the journey.
    pub fn clear_cookie(&self, response: &mut Response) {
        secret::set_secret_cookie(response, COOKIE, &Secret::from_client(""), self.journey.purpose.cookie_path(), 0);
    }
}

/// Starts a journey: stored, with its own secret for the browser's cookie.
pub async fn begin(
    state: &AppState,
    purpose: Purpose,
    bank: BankCode,
    client_id: OrgId,
    context: String,
    lifetime: SignedDuration,
) -> Result<Session, ApiError> {
    let secret = Secret::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let journey = Journey {
        key: secret.hash(),
        purpose,
        bank,
        client_id,
        stage: Stage::Identify,
        psu: None,
        psu_known: false,
        failures: 0,
        challenge: None,
        sca_at: None,
        created_at: now,
        expires_at: now.saturating_add(lifetime).unwrap_or(now),
        context,
        version: 0,
    };
    state.store.insert_journey(&journey).await?;
    Ok(Session { journey, secret })
}

/// The journey this browser holds for `purpose` at `bank`, if any (expired or not).
pub async fn current(
    state: &AppState,
    purpose: Purpose,
    bank: BankCode,
    headers: &HeaderMap,
) -> Result<Option<Session>, ApiError> {
    let Some(secret) = secret::cookie_secret(headers, COOKIE) else { return Ok(None) };
    let journey = state.store.journey(&secret.hash()).await?;
    Ok(journey.filter(|j| j.purpose == purpose && j.bank == bank).map(|journey| Session { journey, secret }))
}

/// Why a form post is not a step of a journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAStep {
    /// No journey for this browser (no cookie, an unknown or foreign one).
    NoJourney,
    /// The form's CSRF token is not the journey's.
    ForeignForm,
}

/// The journey of a form post, whose CSRF token must be the journey's.
pub async fn posted(
    state: &AppState,
    purpose: Purpose,
    bank: BankCode,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Result<Session, NotAStep>, ApiError> {
    let Some(session) = current(state, purpose, bank, headers).await? else { return Ok(Err(NotAStep::NoJourney)) };
    if !same_secret(csrf, &session.csrf()) {
        return Ok(Err(NotAStep::ForeignForm));
    }
    Ok(Ok(session))
}

/// How a journey ended without approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Cancelled,
    TooManyFailures,
    Expired,
    /// The bank's identity provider did not prove a strong authentication (an error, an `acr`
    /// below the bank's, an ID token that fails its checks).
    NotAuthenticated,
    /// The bank's identity provider authenticated someone the ledger does not know.
    UnknownPsu,
}

/// What the PSU's post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Show the authentication page (after an identification; again after a wrong code, with the
    /// attempts left).
    Authenticate { attempts_left: Option<i64> },
    /// Authenticated; the purpose asks the PSU to choose (its own page), then calls [`approve`].
    Choose,
    /// Authenticated and approved.
    Approved,
    /// Refused or expired: the purpose tells its TPP.
    Ended(Ending),
    /// The journey moved meanwhile (another tab, a double post): show its current page.
    Stale,
}

/// Ends the journey as the PSU asked (`Cancel`), or because it expired.
pub async fn end(state: &AppState, session: &mut Session, ending: Ending) -> Result<Step, ApiError> {
    let stage = if ending == Ending::Expired { Stage::Expired } else { Stage::Refused };
    state.store.end_journey(&session.journey.key, stage).await?;
    session.journey.stage = stage;
    Ok(Step::Ended(ending))
}

/// The expiry check every step makes first.
pub async fn expired(state: &AppState, session: &mut Session) -> Result<bool, ApiError> {
    if state.clock.now() <= session.journey.expires_at || session.journey.stage.is_final() {
        return Ok(session.journey.stage == Stage::Expired);
    }
    end(state, session, Ending::Expired).await?;
    Ok(true)
}

/// The identification or the authentication the PSU posted, on a live journey in `Identify` or
/// `Authenticate`. `needs_choice`: whether the purpose asks the PSU to choose before approval.
pub async fn advance(
    state: &AppState,
    session: &mut Session,
    psu_id: Option<&str>,
    code: Option<&str>,
    needs_choice: bool,
    context: &ChallengeContext,
) -> Result<Step, ApiError> {
    // The bank's identity provider identifies and authenticates: no id or code is posted here.
    if state.authenticator.redirects(session.journey.bank) {
        return Ok(Step::Stale);
    }
    match session.journey.stage {
        Stage::Identify => identify(state, session, psu_id.unwrap_or(""), context).await,
        Stage::Authenticate => authenticate(state, session, code.unwrap_or(""), needs_choice, context).await,
        _ => Ok(Step::Stale),
    }
}

/// Identification: a known id gets a challenge from the bank's authenticator; an unknown one the
/// same page, and a journey no code can pass.
async fn identify(
    state: &AppState,
    session: &mut Session,
    typed: &str,
    context: &ChallengeContext,
) -> Result<Step, ApiError> {
    let bank = session.journey.bank;
    let id = PsuId::parse(typed.trim());
    let psu = match &id {
        Some(id) => state.ledger.psu(bank, id).await?,
        None => None,
    };
    let mut next = session.journey.clone();
    next.stage = Stage::Authenticate;
    next.psu = id;
    next.psu_known = psu.is_some();
    if let Some(psu) = &psu
        && may_challenge(state, bank, psu).await?
    {
        next.challenge = match state.authenticator.start(bank, psu, context, state.clock.now()).await {
            Ok(challenge) => Some(challenge),
            // The same page as for an unknown id; the bank's operators learn why from the log.
            Err(why @ AuthenticatorError::NoDestination(_)) => {
                tracing::warn!(%bank, "no one-time code sent: {why}");
                None
            }
            Err(e) => return Err(ApiError::unavailable(format!("strong authentication: {e}"))),
        };
    }
    if !state.store.advance_journey(&session.journey, &next).await? {
        return Ok(Step::Stale);
    }
    next.version += 1;
    session.journey = next;
    Ok(Step::Authenticate { attempts_left: None })
}

/// Whether a challenge may be started for a known PSU: not while they are locked, and, when
/// starting one sends a message, at most [`MAX_CODES_SENT`] per PSU in a quarter hour. Otherwise
/// the journey goes on without a challenge (the same page, no code can pass), so that an
/// online-banking id alone cannot make the bank send message after message.
async fn may_challenge(state: &AppState, bank: BankCode, psu: &Psu) -> Result<bool, ApiError> {
    let now = state.clock.now();
    if state.store.psu_locked(bank, &psu.id, now).await? {
        return Ok(false);
    }
    if !state.authenticator.sends_messages(bank) {
        return Ok(true);
    }
    // The quarter hour, written as the rate counters' windows are (their purge compares the text).
    let quarter = Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(900)).unwrap_or(now);
    let window = quarter.strftime("%Y-%m-%dT%H:%M").to_string();
    let sent = state.store.count_code_sent(bank, &psu.id, &window).await?;
    if sent > MAX_CODES_SENT {
        tracing::warn!(%bank, "no one-time code sent: too many for this PSU in a quarter hour");
    }
    Ok(sent <= MAX_CODES_SENT)
}

async fn authenticate(
    state: &AppState,
    session: &mut Session,
    code: &str,
    needs_choice: bool,
    context: &ChallengeContext,
) -> Result<Step, ApiError> {
    let now = state.clock.now();
    let bank = session.journey.bank;
    let known = match (&session.journey.psu, session.journey.psu_known, &session.journey.challenge) {
        (Some(id), true, Some(challenge)) => state.ledger.psu(bank, id).await?.map(|psu| (psu, challenge.clone())),
        _ => None,
    };
    let verified = match &known {
        Some((psu, challenge)) if !state.store.psu_locked(bank, &psu.id, now).await? => state
            .authenticator
            .verify(bank, psu, challenge, code, context, now)
            .await
            .map_err(|e| ApiError::unavailable(format!("strong authentication: {e}")))?,
        _ => Verification::Failed,
    };
    match verified {
        Verification::Verified { sca_at } => {
            let mut next = session.journey.clone();
            next.stage = if needs_choice { Stage::Choose } else { Stage::Approved };
            next.sca_at = Some(sca_at);
            // Only from the version that was checked, and only while the attempts last.
            if !state.store.pass_authentication(&session.journey, &next, MAX_ATTEMPTS).await? {
                return Ok(Step::Stale);
            }
            if let Some((psu, _)) = &known {
                state.store.clear_psu_failures(bank, &psu.id).await?;
            }
            next.version += 1;
            session.journey = next;
            Ok(if needs_choice { Step::Choose } else { Step::Approved })
        }
        Verification::Failed | Verification::Locked => failed(state, session, known.map(|(psu, _)| psu)).await,
    }
}

/// Counts a failed attempt on the journey (and, for a known PSU, on the PSU across journeys); the
/// last allowed one refuses the journey.
async fn failed(state: &AppState, session: &mut Session, psu: Option<Psu>) -> Result<Step, ApiError> {
    let now = state.clock.now();
    if let Some(psu) = &psu {
        let lock_until = now.saturating_add(LOCK_DURATION).unwrap_or(now);
        let window_start = now.saturating_sub(LOCK_WINDOW).unwrap_or(now);
        let locked = state
            .store
            .record_psu_failure(session.journey.bank, &psu.id, now, window_start, LOCK_AFTER, lock_until)
            .await?;
        if locked {
            tracing::warn!(bank = %session.journey.bank, "a PSU is locked after repeated failed authentications");
        }
    }
    let Some(failures) = state.store.count_journey_failure(&session.journey.key).await? else {
        return Ok(Step::Stale);
    };
    session.journey.failures = failures;
    if failures >= MAX_ATTEMPTS {
        return end(state, session, Ending::TooManyFailures).await;
    }
    Ok(Step::Authenticate { attempts_left: Some(MAX_ATTEMPTS - failures) })
}

/// Approves a journey in `Choose` (the purpose recorded the PSU's choice).
pub async fn approve(state: &AppState, session: &mut Session) -> Result<bool, ApiError> {
    let mut next = session.journey.clone();
    next.stage = Stage::Approved;
    if !state.store.advance_journey(&session.journey, &next).await? {
        return Ok(false);
    }
    next.version += 1;
    session.journey = next;
    Ok(true)
}

/// Closes an approved journey (the PSU signed out).
pub async fn close(state: &AppState, session: &mut Session) -> Result<(), ApiError> {
    state.store.end_journey(&session.journey.key, Stage::Closed).await?;
    session.journey.stage = Stage::Closed;
    Ok(())
}
