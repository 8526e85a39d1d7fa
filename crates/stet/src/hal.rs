//! HAL links (`GenericLink {href, templated}` in STET 1.4.0.47).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One HAL link. STET always sends `templated`, `false` included, as the bank's examples do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Link {
    pub href: String,
    #[serde(default)]
    pub templated: bool,
}

impl Link {
    pub fn plain(href: impl Into<String>) -> Self {
        Link { href: href.into(), templated: false }
    }
    pub fn templated(href: impl Into<String>) -> Self {
        Link { href: href.into(), templated: true }
    }
}

/// A `_links` object: link relation name to link, in a stable order.
pub type Links = BTreeMap<String, Link>;
