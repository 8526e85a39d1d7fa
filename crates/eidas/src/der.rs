//! Just enough DER (ITU-T X.690) to write the PSD2 QCStatements extension and OCSP requests
//! (SEQUENCE, OBJECT IDENTIFIER, UTF8String, OCTET STRING, context tags; definite lengths), and to
//! read OCSP responses and signed objects: one tag-length-value at a time, low tag numbers only,
//! every length checked against what is left.

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTF8_STRING: u8 = 0x0C;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const ENUMERATED: u8 = 0x0A;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const NULL: [u8; 2] = [0x05, 0x00];

/// The tag of a constructed context-specific `[n]` (EXPLICIT tagging).
pub(crate) const fn explicit(n: u8) -> u8 {
    0xA0 | n
}

/// One tag-length-value read from DER.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole encoding, tag and length included (what a signature covers).
    pub raw: &'a [u8],
}

/// Reads one TLV from the start of `input`; `None` when it is not well-formed DER of a low tag
/// number with a definite length that fits in `input`.
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)), rest)
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let (content, after) = rest.split_at(len);
    Some((Tlv { tag, content, raw: &input[..header + len] }, after))
}

/// Reads exactly one TLV with `tag` filling `input`.
pub(crate) fn read_only(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    match read(input)? {
        (tlv, []) if tlv.tag == tag => Some(tlv),
        _ => None,
    }
}

/// The TLVs a constructed value's content holds, in order; `None` if any is malformed.
pub(crate) fn items(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, after) = read(rest)?;
        out.push(tlv);
        rest = after;
    }
    Some(out)
}

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

pub(crate) fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
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

    #[test]
    fn reads_what_it_writes() {
        let long = tlv(SEQUENCE, &[7u8; 300]);
        let (read_back, rest) = read(&long).unwrap();
        assert!(rest.is_empty());
        assert_eq!((read_back.tag, read_back.content.len(), read_back.raw.len()), (SEQUENCE, 300, 304));
        let two = [utf8("a"), octets(b"xy")].concat();
        let parts = items(&two).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].content, b"xy");
        assert!(read(&[0x30, 0x05, 1, 2]).is_none(), "a length past the end");
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none(), "a length of more than 4 bytes");
        assert!(read_only(&two, UTF8_STRING).is_none(), "trailing bytes");
    }

    proptest::proptest! {
        #[test]
        fn reading_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            if let Some((tlv, rest)) = read(&bytes) {
                proptest::prop_assert_eq!(tlv.raw.len() + rest.len(), bytes.len());
            }
            let _ = items(&bytes);
        }
    }
}
