//! eIDAS PSD2 certificates and HTTP message signatures, for both sides of a STET exchange.
//!
//! Today this crate holds the test certificate authority the sandbox runs (a QTSP-like root and the
//! TLS server certificate it signs). It grows the QWAC/QSealC parser (ETSI TS 119 495), TPP
//! certificate issuance and the draft-cavage signature profile of STET Part I section 3.5.
#![forbid(unsafe_code)]
// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

mod der;
pub mod issue;
pub mod psd2;
pub mod revocation;
pub mod signature;
pub mod trust;
