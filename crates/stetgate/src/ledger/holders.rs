//! The holders file of `stetgate ledger import`: who holds the accounts of the imported statements.
//!
//! A small CSV (RFC 4180: comma-separated, fields in double quotes when they hold a comma or a
//! quote, `""` for a quote), with this header line:
//! `bank_code,psu_id,display_name,segment,phone,iban,psu_status`, or the same followed by
//! `,email` (the address one-time codes go to when the bank's gateway sends them by e-mail). One
//! row per (PSU, account); a PSU's accounts are listed to them in the file's order.

use super::{Psu, PsuId, PsuIdentity, Segment};
use stet::{BankCode, Iban};

/// The header line the file must start with (or [`HEADER_WITH_EMAIL`]).
pub const HEADER: &str = "bank_code,psu_id,display_name,segment,phone,iban,psu_status";

/// The header of a file that also gives the PSUs' e-mail addresses.
pub const HEADER_WITH_EMAIL: &str = "bank_code,psu_id,display_name,segment,phone,iban,psu_status,email";

/// One row: a PSU holding an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub psu: Psu,
    pub iban: Iban,
    /// STET `psuStatus`: "Account Holder" or "Co-account Holder".
    pub psu_status: String,
    /// The account's place in the PSU's list (0 first).
    pub position: i64,
}

/// Parses the holders file of `bank`; an error names the line.
pub fn parse(text: &str, bank: BankCode) -> Result<Vec<Holder>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let width = match lines.next().map(|(_, header)| header.trim().trim_start_matches('\u{feff}')) {
        Some(HEADER) => 7,
        Some(HEADER_WITH_EMAIL) => 8,
        _ => return Err(format!("line 1: the header line must be `{HEADER}` or `{HEADER_WITH_EMAIL}`")),
    };
    let mut holders: Vec<Holder> = Vec::new();
    for (index, line) in lines {
        let number = index + 1;
        let fields = split(line).map_err(|e| format!("line {number}: {e}"))?;
        if fields.len() != width {
            return Err(format!("line {number}: {} fields where the header has {width}", fields.len()));
        }
        let mut holder = row(&fields, bank).map_err(|e| format!("line {number}: {e}"))?;
        if holders.iter().any(|h| h.psu.id == holder.psu.id && h.iban == holder.iban) {
            return Err(format!("line {number}: this PSU and IBAN are already listed"));
        }
        holder.position = holders.iter().filter(|h| h.psu.id == holder.psu.id).count() as i64;
        holders.push(holder);
    }
    Ok(holders)
}

fn row(fields: &[String], bank: BankCode) -> Result<Holder, String> {
    let (email, fields) = match fields {
        [rest @ .., email] if rest.len() == 7 => (email.as_str(), rest),
        _ => ("", fields),
    };
    let [code, psu_id, display_name, segment, phone, iban, psu_status] = fields else {
        return Err(format!("{} fields where the header has 7", fields.len()));
    };
    let email = match email {
        "" => None,
        e if super::is_email_address(e) => Some(e.to_owned()),
        _ => return Err("email: an address such as marie.durand@example.fr, or empty".into()),
    };
    if code != bank.as_str() {
        return Err(format!("bank_code {code} is not the imported bank {bank}"));
    }
    let id = PsuId::parse(psu_id).ok_or("psu_id: 1 to 35 letters and digits")?;
    if display_name.trim().is_empty() || display_name.len() > 140 {
        return Err("display_name: 1 to 140 characters".into());
    }
    let segment = Segment::parse(segment)
        .ok_or("segment: one of retail, professional, large-professional, corporate".to_owned())?;
    let phone = match phone.as_str() {
        "" => None,
        p if is_e164(p) => Some(p.to_owned()),
        _ => return Err("phone: E.164, e.g. +33612345678, or empty".into()),
    };
    let iban = Iban::parse(iban).map_err(|e| format!("iban: {e}"))?;
    if !matches!(psu_status.as_str(), "Account Holder" | "Co-account Holder") {
        return Err("psu_status: \"Account Holder\" or \"Co-account Holder\"".into());
    }
    let identity = PsuIdentity {
        connected_psu: display_name.trim().to_owned(),
        name_prefix: None,
        first_name: None,
        last_name: None,
    };
    Ok(Holder {
        psu: Psu { bank, id, identity, segment, phone, email },
        iban,
        psu_status: psu_status.clone(),
        position: 0,
    })
}

fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The fields of one CSV line.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_rows_with_quotes_and_positions() {
        let bank = BankCode::parse("17515").unwrap();
        let text = format!(
            "{HEADER}\n17515,P1,\"DUPONT, JEAN\",retail,+33612345678,FR7617515000920400430518020,Account Holder\n\
             17515,P1,\"DUPONT, JEAN\",retail,,FR76 1751 5000 9204 0085 1811 524,Co-account Holder\n"
        );
        let rows = parse(&text, bank).unwrap();
        assert_eq!(rows[0].psu.identity.connected_psu, "DUPONT, JEAN", "a quoted comma stays in the field");
        assert_eq!((rows[0].position, rows[1].position), (0, 1), "the file's order is the PSU's order");
        assert_eq!(rows[1].psu.phone, None, "the phone is optional");
        let wrong = text.replace("retail,+33", "gold,+33");
        assert!(parse(&wrong, bank).unwrap_err().starts_with("line 2: segment"), "errors name the line");
        assert!(parse("psu,iban\n", bank).is_err(), "the header is required");
        let with_email = format!(
            "{HEADER_WITH_EMAIL}\n17515,P1,JEAN,retail,,FR7617515000920400430518020,Account Holder,jean@example.fr\n\
             17515,P2,ANNE,retail,,FR7617515000920400430518020,Account Holder,\n"
        );
        let rows = parse(&with_email, bank).unwrap();
        assert_eq!(rows[0].psu.email.as_deref(), Some("jean@example.fr"));
        assert_eq!((rows[0].psu.phone.as_deref(), rows[1].psu.email.as_deref()), (None, None), "both optional");
        assert!(parse(&with_email.replace("jean@example.fr", "jean at example"), bank).unwrap_err().contains("email"));
        let short = with_email.replace(",jean@example.fr", "");
        assert!(parse(&short, bank).unwrap_err().starts_with("line 2: 7 fields where the header has 8"));
    }
}
