//! The PROXY protocol, version 2 (HAProxy's specification, section 2.2): the binary header a
//! gateway writes at the start of a TCP connection, before TLS, to name the client it relays.
//!
//! Read only on connections from the `[trusted_proxy]` addresses when `proxy_protocol = true`;
//! there it is required. `LOCAL` (the gateway's own health checks) and unspecified families keep
//! the connection's address.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::io::{AsyncRead, AsyncReadExt};

const SIGNATURE: [u8; 12] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyHeaderError {
    #[error("the connection does not start with a PROXY protocol v2 header")]
    Missing,
    #[error("the PROXY header is malformed: {0}")]
    Malformed(&'static str),
    #[error("reading the PROXY header: {0}")]
    Io(String),
}

/// Reads the header; the client's address it names (`None`: keep the connection's).
pub async fn read_header(stream: &mut (impl AsyncRead + Unpin)) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let mut fixed = [0u8; 16];
    stream.read_exact(&mut fixed).await.map_err(|e| ProxyHeaderError::Io(e.to_string()))?;
    if fixed[..12] != SIGNATURE {
        return Err(ProxyHeaderError::Missing);
    }
    let (version_command, family) = (fixed[12], fixed[13]);
    if version_command >> 4 != 2 {
        return Err(ProxyHeaderError::Malformed("not version 2"));
    }
    let length = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    let mut rest = vec![0u8; length];
    stream.read_exact(&mut rest).await.map_err(|e| ProxyHeaderError::Io(e.to_string()))?;
    match version_command & 0x0F {
        0x0 => Ok(None),
        0x1 => source(family, &rest),
        _ => Err(ProxyHeaderError::Malformed("unknown command")),
    }
}

/// The source address of a `PROXY` command's address block (TLVs after it are ignored).
fn source(family: u8, block: &[u8]) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let short = ProxyHeaderError::Malformed("address block too short");
    match family {
        // TCP or UDP over IPv4: source, destination, source port, destination port.
        0x11 | 0x12 => {
            let b = block.get(..12).ok_or(short)?;
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            Ok(Some(SocketAddr::from((ip, u16::from_be_bytes([b[8], b[9]])))))
        }
        0x21 | 0x22 => {
            let b = block.get(..36).ok_or(short)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            Ok(Some(SocketAddr::from((Ipv6Addr::from(octets), u16::from_be_bytes([b[32], b[33]])))))
        }
        // UNSPEC, or a UNIX socket: nothing to take.
        _ => Ok(None),
    }
}

/// A v2 `PROXY` header naming `client` as the source (tests, and gateways written in Rust).
pub fn header_for(client: SocketAddr, server: SocketAddr) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.push(0x21);
    match (client, server) {
        (SocketAddr::V4(c), SocketAddr::V4(s)) => {
            out.extend([0x11, 0, 12]);
            out.extend(c.ip().octets());
            out.extend(s.ip().octets());
            out.extend(c.port().to_be_bytes());
            out.extend(s.port().to_be_bytes());
        }
        (c, s) => {
            let v6 = |a: SocketAddr| match a {
                SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
                SocketAddr::V6(v6) => *v6.ip(),
            };
            out.extend([0x21, 0, 36]);
            out.extend(v6(c).octets());
            out.extend(v6(s).octets());
            out.extend(c.port().to_be_bytes());
            out.extend(s.port().to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn headers_name_their_client() {
        let client: SocketAddr = "203.0.113.7:5555".parse().unwrap();
        let server: SocketAddr = "10.0.0.1:443".parse().unwrap();
        let mut bytes = header_for(client, server);
        bytes.extend(b"\x16\x03\x01");
        let mut reader = &bytes[..];
        assert_eq!(read_header(&mut reader).await, Ok(Some(client)));
        assert_eq!(reader, b"\x16\x03\x01", "the TLS bytes after it are left unread");
        let v6: SocketAddr = "[2001:db8::7]:4000".parse().unwrap();
        assert_eq!(read_header(&mut &header_for(v6, server)[..]).await, Ok(Some(v6)));
        let mut local = SIGNATURE.to_vec();
        local.extend([0x20, 0x00, 0, 0]);
        assert_eq!(read_header(&mut &local[..]).await, Ok(None), "LOCAL keeps the connection's address");
        let tls = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdefgh".to_vec();
        assert_eq!(read_header(&mut &tls[..]).await, Err(ProxyHeaderError::Missing));
        let mut short = header_for(client, server);
        short.truncate(20);
        assert!(matches!(read_header(&mut &short[..]).await, Err(ProxyHeaderError::Io(_))));
    }
}
