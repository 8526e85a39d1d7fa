//! `/stet/psd2/oauth/register` (RFC 7591 style, over mutual TLS with the QWAC):
//! `POST /register` creates, `GET|PUT|DELETE /register/{client_id}` read, replace and deactivate the
//! caller's own registration. Errors are RFC 6749/7591 JSON.

use super::{RegistrationRequest, RegistrationResponse, may_register, response, validate};
use crate::config::Mode;
use crate::edge::error::OAuthError;
use crate::edge::tpp::{OAuthTpp, TppIdentity};
use crate::revocation::Certificate;
use crate::state::AppState;
use crate::store::Inserted;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use eidas::trust::TrustError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use stet::OrgId;

fn parse_body(body: &Bytes) -> Result<RegistrationRequest, OAuthError> {
    serde_json::from_slice(body).map_err(|e| {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            format!("the body must be JSON {{client_name, redirect_uris[], qsealc, contacts[]?}}: {e}"),
        )
    })
}

/// The registration the body asks for, checked; its QSealC must not be revoked (an unknown
/// status under a hard-fail anchor is a 503: the TPP can only retry).
async fn check(state: &AppState, tpp: &TppIdentity, body: &Bytes) -> Result<super::Registration, OAuthError> {
    let request = parse_body(body)?;
    let registration =
        validate(&request, &tpp.qwac, state.trust.anchors(), state.clock.now(), state.mode == Mode::Sandbox)
            .map_err(|e| OAuthError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let seal = CertificateDer::from_pem_slice(registration.qsealc_pem.as_bytes()).map_err(|_| {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", "qsealc: not a PEM certificate")
    })?;
    let now = state.clock.now().as_second();
    let checked = state.revocation.check(&state.metrics, Certificate::Qsealc, std::slice::from_ref(&seal), now).await;
    checked.map_err(|refused| match refused {
        TrustError::RevocationUnknown(why) => OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            format!("the revocation status of the QSealC could not be established: {why}"),
        ),
        other => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", super::seal_problem(&other)),
    })?;
    Ok(registration)
}

fn store_error(e: crate::store::StoreError) -> OAuthError {
    OAuthError::store("registry", e)
}

/// The caller may only see and change its own registration.
fn own(tpp: &TppIdentity, client_id: &str) -> Result<OrgId, OAuthError> {
    if tpp.org_id.as_str() == client_id {
        Ok(tpp.org_id.clone())
    } else {
        Err(OAuthError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            format!("the QWAC presented belongs to {}, not to {client_id}", tpp.org_id),
        ))
    }
}

/// The bank's registration policy (open, allow-list, closed) applies to creating and to replacing a
/// registration alike: through the API, a TPP the bank closed the door to can change nothing.
fn policy(state: &AppState, tpp: &TppIdentity) -> Result<(), OAuthError> {
    let registration_config = &state.config.registration;
    may_register(&registration_config.mode_for(state.mode), &registration_config.allow, &tpp.org_id)
        .map_err(|why| OAuthError::new(StatusCode::FORBIDDEN, "access_denied", why))
}

pub async fn register(
    State(state): State<AppState>,
    OAuthTpp(tpp): OAuthTpp,
    body: Bytes,
) -> Result<Response, OAuthError> {
    policy(&state, &tpp)?;
    let registration = check(&state, &tpp, &body).await?;
    match state.store.insert_registration(&registration, state.clock.now()).await.map_err(store_error)? {
        Inserted::Created => Ok((StatusCode::CREATED, Json(response(&registration))).into_response()),
        Inserted::AlreadyRegistered => Err(OAuthError::new(
            StatusCode::CONFLICT,
            "invalid_client_metadata",
            format!(
                "{} is already registered: use PUT /stet/psd2/oauth/register/{} to replace it",
                tpp.org_id, tpp.org_id
            ),
        )),
    }
}

pub async fn read(
    State(state): State<AppState>,
    OAuthTpp(tpp): OAuthTpp,
    Path(client_id): Path<String>,
) -> Result<Json<RegistrationResponse>, OAuthError> {
    let org = own(&tpp, &client_id)?;
    match state.store.registration(&org).await.map_err(store_error)? {
        Some(r) => Ok(Json(response(&r))),
        None => Err(not_registered(&org)),
    }
}

pub async fn replace(
    State(state): State<AppState>,
    OAuthTpp(tpp): OAuthTpp,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Json<RegistrationResponse>, OAuthError> {
    let org = own(&tpp, &client_id)?;
    policy(&state, &tpp)?;
    let mut registration = check(&state, &tpp, &body).await?;
    let now = state.clock.now();
    let existing = state.store.registration(&org).await.map_err(store_error)?.ok_or_else(|| not_registered(&org))?;
    if existing.suspended_at.is_some() {
        return Err(suspended(&org));
    }
    registration.created_at = existing.created_at;
    if !state.store.replace_registration(&registration, now).await.map_err(store_error)? {
        return Err(not_registered(&org));
    }
    Ok(Json(response(&registration)))
}

pub async fn deactivate(
    State(state): State<AppState>,
    OAuthTpp(tpp): OAuthTpp,
    Path(client_id): Path<String>,
) -> Result<StatusCode, OAuthError> {
    let org = own(&tpp, &client_id)?;
    if state.store.deactivate_registration(&org, state.clock.now()).await.map_err(store_error)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_registered(&org))
    }
}

fn suspended(org: &OrgId) -> OAuthError {
    OAuthError::new(
        StatusCode::FORBIDDEN,
        "access_denied",
        format!("{org} is suspended by the bank; only the bank can lift it: contact the bank"),
    )
}

fn not_registered(org: &OrgId) -> OAuthError {
    OAuthError::new(
        StatusCode::NOT_FOUND,
        "invalid_client",
        format!("{org} is not registered: POST /stet/psd2/oauth/register"),
    )
}
