//! Just enough DER (ITU-T X.690) to write the PSD2 QCStatements extension: SEQUENCE, OBJECT
//! IDENTIFIER and UTF8String, definite lengths.

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTF8_STRING: u8 = 0x0C;

/// One tag-length-value.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub(crate) fn sequence(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(SEQUENCE, &items.concat())
}

pub(crate) fn utf8(text: &str) -> Vec<u8> {
    tlv(UTF8_STRING, text.as_bytes())
}

/// An OBJECT IDENTIFIER from its arcs (at least two; the first two combined in one byte).
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
    for arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        chunk.reverse();
        content.extend(chunk);
    }
    tlv(OID, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_values() {
        // 1.3.6.1.5.5.7.1.3 (id-pe-qcStatements)
        assert_eq!(oid(&[1, 3, 6, 1, 5, 5, 7, 1, 3]), vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03]);
        // 0.4.0.19495.2: 19495 = 0x4c27 -> 0x81 0x98 0x27
        assert_eq!(oid(&[0, 4, 0, 19495, 2]), vec![0x06, 0x06, 0x04, 0x00, 0x81, 0x98, 0x27, 0x02]);
        assert_eq!(utf8("FR"), vec![0x0c, 0x02, b'F', b'R']);
        let long = tlv(SEQUENCE, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x2c]);
    }
}
