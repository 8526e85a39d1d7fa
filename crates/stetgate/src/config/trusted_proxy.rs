//! `[trusted_proxy]`: the bank's API gateway terminates the TPPs' mutual TLS and forwards the
//! client certificate in a header (`edge::proxy`).
//!
//! ```toml
//! [trusted_proxy]
//! addresses = ["10.20.0.0/16", "192.0.2.10/32"]   # the gateway's source addresses (CIDR)
//! header = "client-cert"                          # the header carrying the certificate
//! format = "rfc9440"                              # RFC 9440 `:base64 DER:`; or "pem-urlencoded"
//! chain_header = "client-cert-chain"              # RFC 9440 intermediates (optional)
//! proxy_protocol = true                           # a PROXY v2 header names the client (optional)
//! ```

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedFormat {
    /// RFC 9440: a Structured Field byte sequence, `:<base64 of the DER>:`.
    Rfc9440,
    /// The URL-encoded PEM many proxies send (nginx `$ssl_client_escaped_cert`).
    PemUrlencoded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedProxyConfig {
    pub addresses: Vec<String>,
    #[serde(default = "client_cert")]
    pub header: String,
    #[serde(default = "rfc9440")]
    pub format: ForwardedFormat,
    #[serde(default)]
    pub chain_header: Option<String>,
    /// Connections from `addresses` start with a PROXY protocol v2 header naming the client.
    #[serde(default)]
    pub proxy_protocol: bool,
}

fn client_cert() -> String {
    "client-cert".to_owned()
}
fn rfc9440() -> ForwardedFormat {
    ForwardedFormat::Rfc9440
}

/// An address block: `10.20.0.0/16`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = text.trim().parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Cidr { network: address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl TrustedProxyConfig {
    /// The address blocks, as checked at start-up.
    pub fn blocks(&self) -> Vec<Cidr> {
        self.addresses.iter().filter_map(|a| Cidr::parse(a)).collect()
    }

    pub(super) fn check(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        if self.addresses.is_empty() {
            return Err(ConfigError::key(file, "trusted_proxy.addresses", "must name the gateway's addresses (CIDR)"));
        }
        if let Some(bad) = self.addresses.iter().find(|a| Cidr::parse(a).is_none()) {
            return Err(ConfigError::key(
                file,
                "trusted_proxy.addresses",
                format!("{bad:?} is not an address or CIDR block"),
            ));
        }
        if axum::http::HeaderName::try_from(self.header.as_str()).is_err() {
            return Err(ConfigError::key(file, "trusted_proxy.header", "is not a header name"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_contain_their_addresses_only() {
        let block = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(block.contains("10.20.3.4".parse().unwrap()));
        assert!(!block.contains("10.21.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.20.0.9".parse().unwrap()), "IPv4-mapped");
        assert!(Cidr::parse("192.0.2.10").unwrap().contains("192.0.2.10".parse().unwrap()));
        assert!(!Cidr::parse("192.0.2.10").unwrap().contains("192.0.2.11".parse().unwrap()));
        assert!(Cidr::parse("2001:db8::/32").unwrap().contains("2001:db8:1::5".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("203.0.113.9".parse().unwrap()));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
    }
}
