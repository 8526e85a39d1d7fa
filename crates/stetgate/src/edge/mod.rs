//! Everything HTTP-generic, in the order a request meets it: the TLS accept loop and the client's
//! certificate ([`tls`]), then, for every response, the [`finish`] layer (ErrorModel, X-Request-ID
//! echo, metrics, access log); under `/stet/psd2/`, bank routing from the Host ([`bank`]) and the
//! request body bounded ([`request::limit_body`]); on resource routes, the STET conventions
//! ([`request::StetRequest`]: X-Request-ID, content negotiation). [`error`] is the one mapping from
//! errors to HTTP.

pub mod authorized;
pub mod bank;
pub mod error;
pub mod facts;
pub mod finish;
pub mod form;
pub mod lifecycle;
pub mod listener;
pub mod maintenance;
pub mod proxy;
pub mod proxy_protocol;
pub mod rate;
pub mod recent;
pub mod request;
pub mod route;
pub mod signature;
pub mod tls;
pub mod tpp;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A HAL+JSON response body (`application/hal+json; charset=utf-8`).
pub struct Hal<T>(pub T);

impl<T: Serialize> IntoResponse for Hal<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => {
                let mut response = bytes.into_response();
                response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(stet::HAL_JSON));
                response
            }
            Err(e) => error::ApiError::Internal(format!("response serialisation: {e}")).into_response(),
        }
    }
}
