//! A transfer as an ISO 20022 pain.001.001.09 `CstmrCdtTrfInitn` document, for a payment hub
//! configured with `format = "pain.001"`, and the reference adapter's reader of it.
//!
//! One `PmtInf` (`BtchBookg` when it pays several credits) with one `CdtTrfTxInf` per credit. The
//! transfer's key travels in the `Idempotency-Key` header (it can be longer than pain.001's
//! 35-character identifiers); `MsgId` and `PmtInfId` carry a hash of it, each `EndToEndId` a hash
//! of `<key>#<n>` (n from 0). The debtor account is identified by its resource id
//! (`DbtrAcct/Id/Othr/Id`), the bank by its code (`DbtrAgt/FinInstnId/Othr/Id`).

use crate::ledger::hub::{Credit, Transfer};
use jiff::civil::Date;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use stet::{Amount, BankCode, Currency, Iban, ResourceId};

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// A 35-character identifier derived from the key.
fn short_id(key: &str) -> String {
    crate::secret::hash_secret(key).chars().filter(char::is_ascii_alphanumeric).take(35).collect()
}

/// The document submitting `transfer`, created at `now`: one `PmtInf` (batch booked when it
/// pays several credits) with one `CdtTrfTxInf` per credit.
pub fn write(transfer: &Transfer, now: jiff::Timestamp) -> String {
    let id = short_id(&transfer.key);
    let total = transfer.amount.amount_text();
    let currency = transfer.amount.currency.to_string();
    let instant = if transfer.instant { "<LclInstrm><Cd>INST</Cd></LclInstrm>" } else { "" };
    let batch = if transfer.credits.len() > 1 { "<BtchBookg>true</BtchBookg>" } else { "<BtchBookg>false</BtchBookg>" };
    let credits: String = transfer
        .credits
        .iter()
        .enumerate()
        .map(|(n, credit)| credit_transfer(&short_id(&format!("{}#{n}", transfer.key)), credit))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NAMESPACE}"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>{created}</CreDtTm><NbOfTxs>{count}</NbOfTxs><CtrlSum>{total}</CtrlSum><InitgPty><Nm>stetgate</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{id}</PmtInfId><PmtMtd>TRF</PmtMtd>{batch}<NbOfTxs>{count}</NbOfTxs><CtrlSum>{total}</CtrlSum>
<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl>{instant}</PmtTpInf>
<ReqdExctnDt><Dt>{date}</Dt></ReqdExctnDt>
<Dbtr/><DbtrAcct><Id><Othr><Id>{debtor}</Id></Othr></Id><Ccy>{currency}</Ccy></DbtrAcct>
<DbtrAgt><FinInstnId><Othr><Id>{bank}</Id></Othr></FinInstnId></DbtrAgt>
{credits}</PmtInf></CstmrCdtTrfInitn></Document>
"#,
        created = now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        count = transfer.credits.len(),
        date = transfer.date,
        debtor = escape(transfer.debtor.as_str()),
        bank = transfer.bank,
    )
}

/// One `CdtTrfTxInf`: SEPA's limits on the creditor's name (70) and remittance lines (140).
fn credit_transfer(end_to_end: &str, credit: &Credit) -> String {
    let creditor_account = match &credit.creditor_iban {
        Some(iban) => format!("<CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct>", escape(iban.as_str())),
        None => String::new(),
    };
    let remittance: String = credit
        .remittance
        .iter()
        .map(|line| format!("<Ustrd>{}</Ustrd>", escape(line.chars().take(140).collect::<String>().as_str())))
        .collect();
    let remittance = if remittance.is_empty() { String::new() } else { format!("<RmtInf>{remittance}</RmtInf>") };
    format!(
        "<CdtTrfTxInf><PmtId><EndToEndId>{end_to_end}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"{currency}\">{amount}</InstdAmt></Amt>\n<Cdtr><Nm>{creditor}</Nm></Cdtr>{creditor_account}{remittance}</CdtTrfTxInf>\n",
        currency = credit.amount.currency,
        amount = credit.amount.amount_text(),
        creditor = escape(credit.creditor_name.chars().take(70).collect::<String>().as_str()),
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
                    fields.current.currency = ccy.map(|a| a.value.into_owned());
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
    control_sum: Option<String>,
    instant: bool,
    /// The `CdtTrfTxInf` being read.
    current: CreditFields,
    credits: Vec<CreditFields>,
}

#[derive(Default)]
struct CreditFields {
    amount: Option<String>,
    currency: Option<String>,
    creditor: Option<String>,
    iban: Option<String>,
    remittance: Vec<String>,
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
            self.current.amount = Some(text);
        } else if ends(&["Cdtr", "Nm"]) {
            self.current.creditor = Some(text);
        } else if ends(&["CdtrAcct", "Id", "IBAN"]) {
            self.current.iban = Some(text);
        } else if ends(&["RmtInf", "Ustrd"]) {
            self.current.remittance.push(text);
        } else if ends(&["PmtInf", "CtrlSum"]) {
            self.control_sum = Some(text);
        } else if ends(&["CdtTrfTxInf"]) {
            self.credits.push(std::mem::take(&mut self.current));
        } else if ends(&["LclInstrm", "Cd"]) {
            self.instant = text == "INST";
        }
    }

    fn transfer(self, key: &str, bank: BankCode) -> Result<Transfer, String> {
        let missing = |what: &str| format!("no {what}");
        let date: Date =
            self.date.ok_or_else(|| missing("ReqdExctnDt/Dt"))?.parse().map_err(|_| "ReqdExctnDt/Dt is not a date")?;
        let debtor = ResourceId::parse(&self.debtor.ok_or_else(|| missing("DbtrAcct/Id/Othr/Id"))?)
            .map_err(|e| e.to_string())?;
        let credits = self.credits.into_iter().map(CreditFields::credit).collect::<Result<Vec<_>, _>>()?;
        let first = credits.first().ok_or_else(|| missing("CdtTrfTxInf"))?;
        let total = match self.control_sum {
            Some(sum) => Amount::parse(&sum, first.amount.currency).map_err(|e| format!("PmtInf/CtrlSum: {e}"))?,
            None => return Err(missing("PmtInf/CtrlSum")),
        };
        let transfer = Transfer::of_credits(key.to_owned(), bank, debtor, date, self.instant, credits, key);
        crate::core_banking::contract::check_total(&transfer, total)?;
        Ok(transfer)
    }
}

impl CreditFields {
    fn credit(self) -> Result<Credit, String> {
        let missing = |what: &str| format!("no {what}");
        let currency =
            Currency::parse(&self.currency.ok_or_else(|| missing("InstdAmt/@Ccy"))?).map_err(|e| e.to_string())?;
        Ok(Credit {
            creditor_name: self.creditor.ok_or_else(|| missing("Cdtr/Nm"))?,
            creditor_iban: self.iban.map(|i| Iban::parse(&i)).transpose().map_err(|e| e.to_string())?,
            amount: Amount::parse(&self.amount.ok_or_else(|| missing("InstdAmt"))?, currency)
                .map_err(|e| e.to_string())?,
            remittance: self.remittance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_survives_the_document() {
        let credit = |name: &str, amount: &str| Credit {
            creditor_name: name.into(),
            creditor_iban: Some(Iban::parse("FR7630004000031234567890143").unwrap()),
            amount: Amount::parse(amount, Currency::EUR).unwrap(),
            remittance: vec!["Commande 42".into()],
        };
        let transfer = Transfer::of_credits(
            "13807/PR-0123456789abcdef0123456789abcdef/0/2026-11-21".into(),
            BankCode::parse("13807").unwrap(),
            ResourceId::parse("138070080430019654051").unwrap(),
            "2026-11-21".parse().unwrap(),
            true,
            vec![credit("Boulangerie <Paul> & Fils", "42.50")],
            "ref",
        );
        let xml = write(&transfer, "2026-11-21T10:00:00Z".parse().unwrap());
        assert!(xml.contains(NAMESPACE) && xml.contains("&lt;Paul&gt; &amp; Fils"), "{xml}");
        let id = short_id(&transfer.key);
        assert_eq!(id.len(), 35);
        assert!(xml.contains(&format!("<MsgId>{id}</MsgId>")));
        let end_to_end = short_id(&format!("{}#0", transfer.key));
        assert!(xml.contains(&format!("<EndToEndId>{end_to_end}</EndToEndId>")));
        assert_eq!(read(&xml, &transfer.key, transfer.bank).unwrap(), transfer);
        assert!(read("<Document/>", "k", transfer.bank).unwrap_err().contains("no ReqdExctnDt"));
        // A batch: one debit, each credit its own CdtTrfTxInf, the total checked.
        let batch = Transfer::of_credits(
            "13807/PR-b/-1/2026-11-21".into(),
            transfer.bank,
            transfer.debtor.clone(),
            transfer.date,
            false,
            vec![credit("Boulangerie", "10.00"), credit("Fromagerie", "5.25")],
            // The document has no debit-level remittance: the reader names a batch by its key.
            "13807/PR-b/-1/2026-11-21",
        );
        let xml = write(&batch, "2026-11-21T10:00:00Z".parse().unwrap());
        assert!(xml.contains("<BtchBookg>true</BtchBookg>") && xml.matches("<CdtTrfTxInf>").count() == 2, "{xml}");
        assert_eq!(read(&xml, &batch.key, batch.bank).unwrap(), batch);
        assert_eq!(batch.amount.amount_text(), "15.25");
        let wrong_sum = xml.replace("<CtrlSum>15.25</CtrlSum>", "<CtrlSum>99.00</CtrlSum>");
        assert!(read(&wrong_sum, &batch.key, batch.bank).unwrap_err().contains("total"));
    }
}
