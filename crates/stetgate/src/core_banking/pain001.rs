//! A transfer as an ISO 20022 pain.001.001.09 `CstmrCdtTrfInitn` document, for a payment hub
//! configured with `format = "pain.001"`, and the reference adapter's reader of it.
//!
//! One `PmtInf` with one `CdtTrfTxInf`. The transfer's key travels in the `Idempotency-Key`
//! header (it can be longer than pain.001's 35-character identifiers); `MsgId`, `PmtInfId` and
//! `EndToEndId` carry a hash of it. The debtor account is identified by its resource id
//! (`DbtrAcct/Id/Othr/Id`), the bank by its code (`DbtrAgt/FinInstnId/Othr/Id`).

use crate::ledger::hub::Transfer;
use jiff::civil::Date;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use stet::{Amount, BankCode, Currency, Iban, ResourceId};

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// A 35-character identifier derived from the key.
fn short_id(key: &str) -> String {
    crate::secret::hash_secret(key).chars().filter(char::is_ascii_alphanumeric).take(35).collect()
}

/// The document submitting `transfer`, created at `now`.
pub fn write(transfer: &Transfer, now: jiff::Timestamp) -> String {
    let id = short_id(&transfer.key);
    let amount = transfer.amount.amount_text();
    let currency = transfer.amount.currency.to_string();
    let instant = if transfer.instant { "<LclInstrm><Cd>INST</Cd></LclInstrm>" } else { "" };
    let creditor_account = match &transfer.creditor_iban {
        Some(iban) => format!("<CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct>", escape(iban.as_str())),
        None => String::new(),
    };
    let remittance: String = transfer
        .remittance
        .iter()
        .map(|line| format!("<Ustrd>{}</Ustrd>", escape(line.chars().take(140).collect::<String>().as_str())))
        .collect();
    let remittance = if remittance.is_empty() { String::new() } else { format!("<RmtInf>{remittance}</RmtInf>") };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NAMESPACE}"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>{created}</CreDtTm><NbOfTxs>1</NbOfTxs><CtrlSum>{amount}</CtrlSum><InitgPty><Nm>stetgate</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{id}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>1</NbOfTxs><CtrlSum>{amount}</CtrlSum>
<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl>{instant}</PmtTpInf>
<ReqdExctnDt><Dt>{date}</Dt></ReqdExctnDt>
<Dbtr/><DbtrAcct><Id><Othr><Id>{debtor}</Id></Othr></Id><Ccy>{currency}</Ccy></DbtrAcct>
<DbtrAgt><FinInstnId><Othr><Id>{bank}</Id></Othr></FinInstnId></DbtrAgt>
<CdtTrfTxInf><PmtId><EndToEndId>{id}</EndToEndId></PmtId><Amt><InstdAmt Ccy="{currency}">{amount}</InstdAmt></Amt>
<Cdtr><Nm>{creditor}</Nm></Cdtr>{creditor_account}{remittance}</CdtTrfTxInf>
</PmtInf></CstmrCdtTrfInitn></Document>
"#,
        created = now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        date = transfer.date,
        debtor = escape(transfer.debtor.as_str()),
        bank = transfer.bank,
        creditor = escape(transfer.creditor_name.as_str()),
    )
}

/// Reads a document made by [`write`] (or a bank's equivalent) back into the transfer of `key`.
pub fn read(xml: &str, key: &str, bank: BankCode) -> Result<Transfer, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut fields = Fields::default();
    loop {
        match reader.read_event().map_err(|e| format!("not well-formed XML: {e}"))? {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_owned();
                if name == "InstdAmt" {
                    let ccy = start.try_get_attribute("Ccy").map_err(|e| format!("bad attribute: {e}"))?;
                    fields.currency = ccy.map(|a| a.value.into_owned());
                }
                path.push(name);
                text.clear();
            }
            Event::End(_) => {
                fields.take(&path, text.trim().to_owned());
                text.clear();
                path.pop();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => crate::ledger::camt::predefined_entity(&reference.xml10_content())
                        .ok_or("an unknown entity reference")?,
                };
                text.push(resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    fields.transfer(key, bank)
}

#[derive(Default)]
struct Fields {
    date: Option<String>,
    debtor: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    creditor: Option<String>,
    iban: Option<String>,
    remittance: Vec<String>,
    instant: bool,
}

impl Fields {
    fn take(&mut self, path: &[String], text: String) {
        let ends = |tail: &[&str]| {
            path.len() >= tail.len() && path[path.len() - tail.len()..].iter().zip(tail).all(|(a, b)| a == b)
        };
        if ends(&["ReqdExctnDt", "Dt"]) {
            self.date = Some(text);
        } else if ends(&["DbtrAcct", "Id", "Othr", "Id"]) {
            self.debtor = Some(text);
        } else if ends(&["Amt", "InstdAmt"]) {
            self.amount = Some(text);
        } else if ends(&["Cdtr", "Nm"]) {
            self.creditor = Some(text);
        } else if ends(&["CdtrAcct", "Id", "IBAN"]) {
            self.iban = Some(text);
        } else if ends(&["RmtInf", "Ustrd"]) {
            self.remittance.push(text);
        } else if ends(&["LclInstrm", "Cd"]) {
            self.instant = text == "INST";
        }
    }

    fn transfer(self, key: &str, bank: BankCode) -> Result<Transfer, String> {
        let missing = |what: &str| format!("no {what}");
        let currency =
            Currency::parse(&self.currency.ok_or_else(|| missing("InstdAmt/@Ccy"))?).map_err(|e| e.to_string())?;
        let amount =
            Amount::parse(&self.amount.ok_or_else(|| missing("InstdAmt"))?, currency).map_err(|e| e.to_string())?;
        let date: Date =
            self.date.ok_or_else(|| missing("ReqdExctnDt/Dt"))?.parse().map_err(|_| "ReqdExctnDt/Dt is not a date")?;
        Ok(Transfer {
            key: key.to_owned(),
            bank,
            debtor: ResourceId::parse(&self.debtor.ok_or_else(|| missing("DbtrAcct/Id/Othr/Id"))?)
                .map_err(|e| e.to_string())?,
            amount,
            creditor_name: self.creditor.ok_or_else(|| missing("Cdtr/Nm"))?,
            creditor_iban: self.iban.map(|i| Iban::parse(&i)).transpose().map_err(|e| e.to_string())?,
            remittance: self.remittance,
            date,
            instant: self.instant,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_survives_the_document() {
        let transfer = Transfer {
            key: "13807/PR-0123456789abcdef0123456789abcdef/0/2026-11-21".into(),
            bank: BankCode::parse("13807").unwrap(),
            debtor: ResourceId::parse("138070080430019654051").unwrap(),
            amount: Amount::parse("42.50", Currency::EUR).unwrap(),
            creditor_name: "Boulangerie <Paul> & Fils".into(),
            creditor_iban: Some(Iban::parse("FR7630004000031234567890143").unwrap()),
            remittance: vec!["Commande 42".into()],
            date: "2026-11-21".parse().unwrap(),
            instant: true,
        };
        let xml = write(&transfer, "2026-11-21T10:00:00Z".parse().unwrap());
        assert!(xml.contains(NAMESPACE) && xml.contains("&lt;Paul&gt; &amp; Fils"), "{xml}");
        let id = short_id(&transfer.key);
        assert_eq!(id.len(), 35);
        assert!(xml.contains(&format!("<EndToEndId>{id}</EndToEndId>")));
        assert_eq!(read(&xml, &transfer.key, transfer.bank).unwrap(), transfer);
        assert!(read("<Document/>", "k", transfer.bank).unwrap_err().contains("no InstdAmt"));
    }
}
