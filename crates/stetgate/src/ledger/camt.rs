//! ISO 20022 cash-management statements, read as a stream: camt.053 `BkToCstmrStmt/Stmt` (end of
//! day) and camt.052 `BkToCstmrAcctRpt/Rpt` (intraday), any version (001.02 to 001.08 and later:
//! elements are matched by local name, whatever the namespace).
//!
//! [`CamtReader`] yields a [`StatementHead`] (account, booked balance) before the entries of each
//! statement, then each [`Entry`] as soon as its `</Ntry>` is read: memory holds one entry, never
//! the file. Every error names the element path (`Document/BkToCstmrStmt/Stmt[2]/Ntry[17]/Amt`)
//! and the line.

use super::{BankTransactionCode, CreditDebit, TransactionStatus};
use jiff::civil::Date;
use quick_xml::events::{BytesStart, Event};
use std::fmt;
use std::io::{BufRead, Read};
use stet::{Amount, Currency, Iban};

/// Text longer than this in one element is refused (ISO 20022 texts are at most 500 characters).
const MAX_TEXT: usize = 4096;
/// Leaf elements kept per statement header, balance or entry; more is refused. A batch booking
/// lists every transaction of the batch in its entry (`NtryDtls/TxDtls`), hence the room.
const MAX_FIELDS: usize = 5000;

/// What went wrong, where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} (line {line}): {message}")]
pub struct CamtError {
    pub path: String,
    pub line: u64,
    pub message: String,
}

/// camt.053 or camt.052: which balance is the account's booked balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// camt.053: the closing booked balance, CLBD.
    EndOfDay,
    /// camt.052: the interim booked balance, ITBD.
    Intraday,
}

impl Kind {
    fn booked_code(self) -> &'static str {
        match self {
            Kind::EndOfDay => "CLBD",
            Kind::Intraday => "ITBD",
        }
    }
}

/// A balance of the statement (`Bal`), signed (a debit balance is negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementBalance {
    /// CLBD, ITBD or OPBD.
    pub code: String,
    pub amount: Amount,
    pub date: Date,
}

/// One statement (`Stmt`) or report (`Rpt`): the account and its booked balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementHead {
    pub kind: Kind,
    pub path: String,
    pub line: u64,
    pub iban: Iban,
    pub currency: Currency,
    /// `Acct/Nm`.
    pub account_name: Option<String>,
    /// CLBD (camt.053) or ITBD (camt.052); `None` when the statement has none.
    pub booked: Option<StatementBalance>,
    /// The day of `CreDtTm`, the date of entries that carry neither booking nor value date.
    pub created: Option<Date>,
}

/// One entry (`Ntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub line: u64,
    pub entry_reference: Option<String>,
    pub servicer_reference: Option<String>,
    /// Always positive; the direction is `credit_debit`.
    pub amount: Amount,
    pub credit_debit: CreditDebit,
    /// BOOK, or OTHR for PDNG / INFO / FUTR.
    pub status: TransactionStatus,
    pub booking_date: Option<Date>,
    pub value_date: Option<Date>,
    pub bank_transaction_code: Option<BankTransactionCode>,
    pub creditor: Option<String>,
    pub debtor: Option<String>,
    /// `Ustrd` lines, else `AddtlNtryInf`.
    pub remittance: Vec<String>,
}

/// What the reader yields, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Statement(StatementHead),
    Entry(Entry),
}

/// Counts the lines the XML parser has consumed, for error messages.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.newlines += out[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let seen = &buf[..amount.min(buf.len())];
            self.newlines += seen.iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.inner.consume(amount);
    }
}

/// An open element.
struct Frame {
    name: String,
    /// The name with its position among same-named siblings, e.g. `Ntry[17]`.
    label: String,
    children: Vec<(String, u32)>,
    has_children: bool,
    currency: Option<String>,
}

/// A leaf element read inside a statement, balance or entry.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// Relative to the statement, balance or entry, without positions: `NtryDtls/TxDtls/RmtInf/Ustrd`.
    rel: String,
    path: String,
    line: u64,
    text: String,
    currency: Option<String>,
}

/// The leaf elements of one statement, balance or entry, while it is open.
pub(crate) struct Scope {
    depth: usize,
    path: String,
    line: u64,
    fields: Vec<Field>,
}

impl Scope {
    fn get(&self, rel: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.rel == rel)
    }

    fn text(&self, rel: &str) -> Option<String> {
        self.get(rel).map(|f| f.text.clone()).filter(|t| !t.is_empty())
    }

    fn require(&self, rel: &str) -> Result<&Field, CamtError> {
        self.get(rel).ok_or_else(|| self.error(format!("{rel} is missing")))
    }

    fn error(&self, message: String) -> CamtError {
        CamtError { path: self.path.clone(), line: self.line, message }
    }
}

impl Field {
    fn error(&self, message: impl fmt::Display) -> CamtError {
        CamtError { path: self.path.clone(), line: self.line, message: message.to_string() }
    }

    fn date(&self) -> Result<Date, CamtError> {
        let day = self.text.get(..10).unwrap_or(&self.text);
        let ok = self.text.len() == 10 || self.text.as_bytes().get(10) == Some(&b'T');
        day.parse().ok().filter(|_| ok).ok_or_else(|| self.error(format!("{:?} is not an ISO date", self.text)))
    }

    /// An ISO 20022 amount (`Amt Ccy="EUR"`): digits, an optional point, at most the currency's
    /// minor-unit digits.
    fn amount(&self) -> Result<Amount, CamtError> {
        let code = self.currency.as_deref().ok_or_else(|| self.error("the Ccy attribute is missing"))?;
        let currency = Currency::parse(code).map_err(|e| self.error(e))?;
        if self.text.starts_with('-') {
            return Err(self.error(format!("amount {:?} is negative", self.text)));
        }
        let amount = Amount::parse(&self.text, currency).map_err(|e| self.error(e))?;
        amount.to_minor().map_err(|e| self.error(e))?;
        Ok(amount)
    }

    fn credit_debit(&self) -> Result<CreditDebit, CamtError> {
        CreditDebit::parse(&self.text).ok_or_else(|| self.error(format!("{:?} is neither CRDT nor DBIT", self.text)))
    }
}

/// Reads camt.052 / camt.053 documents as a stream of [`Item`]s.
pub struct CamtReader<R: BufRead> {
    xml: quick_xml::Reader<LineCounter<R>>,
    buf: Vec<u8>,
    stack: Vec<Frame>,
    kind: Option<Kind>,
    text: String,
    statement: Option<Scope>,
    head_sent: bool,
    balances: Vec<StatementBalance>,
    balance: Option<Scope>,
    entry: Option<Scope>,
}

impl<R: BufRead> CamtReader<R> {
    pub fn new(input: R) -> Self {
        CamtReader {
            xml: quick_xml::Reader::from_reader(LineCounter { inner: input, newlines: 0 }),
            buf: Vec::with_capacity(4096),
            stack: Vec::new(),
            kind: None,
            text: String::new(),
            statement: None,
            head_sent: false,
            balances: Vec::new(),
            balance: None,
            entry: None,
        }
    }

    fn line(&self) -> u64 {
        self.xml.get_ref().newlines + 1
    }

    fn path(&self) -> String {
        let labels: Vec<&str> = self.stack.iter().map(|f| f.label.as_str()).collect();
        labels.join("/")
    }

    fn error(&self, message: impl fmt::Display) -> CamtError {
        CamtError { path: self.path(), line: self.line(), message: message.to_string() }
    }

    /// The next statement head or entry; `None` at the end of the document.
    pub fn next_item(&mut self) -> Result<Option<Item>, CamtError> {
        loop {
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(event) => event.into_owned(),
                Err(e) => return Err(self.error(format!("not well-formed XML: {e}"))),
            };
            let item = match event {
                Event::Start(start) => self.open(&start)?,
                Event::Empty(start) => match self.open(&start)? {
                    Some(item) => Some(item),
                    None => self.close()?,
                },
                Event::End(_) => self.close()?,
                Event::Text(text) => {
                    self.push_text(&text.xml10_content())?;
                    None
                }
                Event::CData(data) => {
                    self.push_text(&data.xml10_content())?;
                    None
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => predefined_entity(&reference.xml10_content())
                            .ok_or_else(|| self.error("an unknown entity reference"))?,
                    };
                    self.push_text(resolved.encode_utf8(&mut [0; 4]))?;
                    None
                }
                Event::Eof if self.stack.is_empty() && self.kind.is_some() => return Ok(None),
                Event::Eof => return Err(self.error("the document ends early (not a complete camt.052 or camt.053)")),
                _ => None,
            };
            if item.is_some() {
                return Ok(item);
            }
        }
    }

    fn push_text(&mut self, text: &str) -> Result<(), CamtError> {
        if self.statement.is_none() {
            return Ok(());
        }
        if self.text.len() + text.len() > MAX_TEXT {
            return Err(self.error(format!("the text is longer than {MAX_TEXT} bytes")));
        }
        self.text.push_str(text);
        Ok(())
    }

    fn open(&mut self, start: &BytesStart<'_>) -> Result<Option<Item>, CamtError> {
        let local = start.local_name();
        let name = local.as_ref().to_owned();
        let position = match self.stack.last_mut() {
            Some(parent) => {
                parent.has_children = true;
                bump(&mut parent.children, &name)
            }
            None => 1,
        };
        let label = if matches!(name.as_str(), "Stmt" | "Rpt" | "Ntry" | "Bal" | "NtryDtls" | "TxDtls" | "Ustrd") {
            format!("{name}[{position}]")
        } else {
            name.clone()
        };
        let currency = match start.try_get_attribute("Ccy") {
            Ok(attribute) => attribute.map(|a| a.value.into_owned()),
            Err(e) => return Err(self.error(format!("bad attribute: {e}"))),
        };
        self.stack.push(Frame { name, label, children: Vec::new(), has_children: false, currency });
        self.text.clear();
        self.enter()
    }

    /// What opening the element on top of the stack starts.
    fn enter(&mut self) -> Result<Option<Item>, CamtError> {
        let depth = self.stack.len();
        let name = self.stack.last().map(|f| f.name.clone()).unwrap_or_default();
        match depth {
            1 if name != "Document" => return Err(self.error("the root element is not Document")),
            2 => {
                self.kind = Some(match name.as_str() {
                    "BkToCstmrStmt" => Kind::EndOfDay,
                    "BkToCstmrAcctRpt" => Kind::Intraday,
                    _ => return Err(self.error("not a camt.053 BkToCstmrStmt nor a camt.052 BkToCstmrAcctRpt")),
                })
            }
            3 if name == "Stmt" || name == "Rpt" => {
                self.statement = Some(self.scope());
                self.head_sent = false;
                self.balances.clear();
            }
            4 if self.statement.is_some() && name == "Bal" => self.balance = Some(self.scope()),
            4 if self.statement.is_some() && name == "Ntry" => {
                self.entry = Some(self.scope());
                if !self.head_sent {
                    self.head_sent = true;
                    return self.head().map(|h| Some(Item::Statement(h)));
                }
            }
            _ => {}
        }
        Ok(None)
    }

    fn scope(&self) -> Scope {
        Scope { depth: self.stack.len(), path: self.path(), line: self.line(), fields: Vec::new() }
    }

    fn close(&mut self) -> Result<Option<Item>, CamtError> {
        let depth = self.stack.len();
        let frame = self.stack.last().ok_or_else(|| self.error("an end tag without a start"))?;
        if !frame.has_children {
            self.record()?;
        }
        self.text.clear();
        let mut item = None;
        if self.entry.as_ref().is_some_and(|s| s.depth == depth) {
            let scope = self.entry.take().ok_or_else(|| self.error("no entry"))?;
            item = Some(Item::Entry(entry(&scope)?));
        } else if self.balance.as_ref().is_some_and(|s| s.depth == depth) {
            let scope = self.balance.take().ok_or_else(|| self.error("no balance"))?;
            if let Some(balance) = balance(&scope)? {
                // The last balance of each code counts (and memory stays bounded).
                self.balances.retain(|b| b.code != balance.code);
                self.balances.push(balance);
            }
        } else if self.statement.as_ref().is_some_and(|s| s.depth == depth) {
            if !self.head_sent {
                self.head_sent = true;
                item = Some(Item::Statement(self.head()?));
            }
            self.statement = None;
        }
        self.stack.pop();
        Ok(item)
    }

    /// Keeps the leaf element on top of the stack in the innermost open scope.
    fn record(&mut self) -> Result<(), CamtError> {
        let path = self.path();
        let line = self.line();
        let Some(frame) = self.stack.last() else { return Ok(()) };
        let currency = frame.currency.clone();
        let text = self.text.trim().to_owned();
        let scope = match (&mut self.entry, &mut self.balance, &mut self.statement) {
            (Some(s), _, _) | (None, Some(s), _) | (None, None, Some(s)) => s,
            _ => return Ok(()),
        };
        if scope.fields.len() >= MAX_FIELDS {
            return Err(CamtError { path, line, message: format!("more than {MAX_FIELDS} elements") });
        }
        let names: Vec<&str> = self.stack[scope.depth..].iter().map(|f| f.name.as_str()).collect();
        scope.fields.push(Field { rel: names.join("/"), path, line, text, currency });
        Ok(())
    }

    fn head(&self) -> Result<StatementHead, CamtError> {
        let scope = self.statement.as_ref().ok_or_else(|| self.error("no statement"))?;
        let kind = self.kind.ok_or_else(|| self.error("no message"))?;
        let iban_field = scope.require("Acct/Id/IBAN")?;
        let iban = Iban::parse(&iban_field.text).map_err(|e| iban_field.error(e))?;
        // The opening balance (OPBD) is before the statement's entries: never the booked balance.
        let booked = self.balances.iter().find(|b| b.code == kind.booked_code()).cloned();
        let currency = match scope.get("Acct/Ccy") {
            Some(field) => Currency::parse(&field.text).map_err(|e| field.error(e))?,
            None => {
                booked.as_ref().map(|b| b.amount.currency).ok_or_else(|| scope.error("Acct/Ccy is missing".into()))?
            }
        };
        let created = scope.get("CreDtTm").map(Field::date).transpose()?;
        Ok(StatementHead {
            kind,
            path: scope.path.clone(),
            line: scope.line,
            iban,
            currency,
            account_name: scope.text("Acct/Nm"),
            booked,
            created,
        })
    }
}

/// The position of `name` among its parent's children named so, counting this one.
fn bump(children: &mut Vec<(String, u32)>, name: &str) -> u32 {
    if let Some((_, n)) = children.iter_mut().find(|(c, _)| c == name) {
        *n += 1;
        return *n;
    }
    children.push((name.to_owned(), 1));
    1
}

/// XML's five predefined entities (quick-xml hands entity references over unresolved).
pub(crate) fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// A `Bal` of the statement; `None` for the codes the ledger does not keep (CLAV, PRCD ...).
fn balance(scope: &Scope) -> Result<Option<StatementBalance>, CamtError> {
    let code = scope.require("Tp/CdOrPrtry/Cd").map(|f| f.text.clone()).unwrap_or_default();
    if !matches!(code.as_str(), "CLBD" | "ITBD" | "OPBD") {
        return Ok(None);
    }
    let mut amount = scope.require("Amt")?.amount()?;
    if scope.require("CdtDbtInd")?.credit_debit()? == CreditDebit::Debit {
        amount.value = -amount.value;
    }
    let date = match scope.get("Dt/Dt").or_else(|| scope.get("Dt/DtTm")) {
        Some(field) => field.date()?,
        None => return Err(scope.error("Dt/Dt is missing".into())),
    };
    Ok(Some(StatementBalance { code, amount, date }))
}

fn status(scope: &Scope) -> Result<TransactionStatus, CamtError> {
    let field = scope.get("Sts/Cd").or_else(|| scope.get("Sts")).ok_or_else(|| scope.error("Sts is missing".into()))?;
    match field.text.as_str() {
        "BOOK" => Ok(TransactionStatus::Book),
        "PDNG" | "INFO" | "FUTR" => Ok(TransactionStatus::Othr),
        other => Err(field.error(format!("status {other:?} is not BOOK, PDNG, INFO or FUTR"))),
    }
}

fn entry(scope: &Scope) -> Result<Entry, CamtError> {
    let date = |rel: &str| -> Result<Option<Date>, CamtError> {
        let field = scope.get(&format!("{rel}/Dt")).or_else(|| scope.get(&format!("{rel}/DtTm")));
        field.map(Field::date).transpose()
    };
    let bank_transaction_code = scope.text("BkTxCd/Domn/Cd").map(|domain| BankTransactionCode {
        domain,
        family: scope.text("BkTxCd/Domn/Fmly/Cd").unwrap_or_default(),
        sub_family: scope.text("BkTxCd/Domn/Fmly/SubFmlyCd").unwrap_or_default(),
        code: None,
        issuer: None,
    });
    let party = |role: &str| {
        scope
            .text(&format!("NtryDtls/TxDtls/RltdPties/{role}/Nm"))
            .or_else(|| scope.text(&format!("NtryDtls/TxDtls/RltdPties/{role}/Pty/Nm")))
    };
    let mut remittance: Vec<String> = scope
        .fields
        .iter()
        .filter(|f| f.rel == "NtryDtls/TxDtls/RmtInf/Ustrd" && !f.text.is_empty())
        .map(|f| f.text.clone())
        .collect();
    if remittance.is_empty() {
        remittance.extend(scope.text("AddtlNtryInf"));
    }
    Ok(Entry {
        path: scope.path.clone(),
        line: scope.line,
        entry_reference: scope.text("NtryRef"),
        servicer_reference: scope.text("AcctSvcrRef"),
        amount: scope.require("Amt")?.amount()?,
        credit_debit: scope.require("CdtDbtInd")?.credit_debit()?,
        status: status(scope)?,
        booking_date: date("BookgDt")?,
        value_date: date("ValDt")?,
        bank_transaction_code,
        creditor: party("Cdtr"),
        debtor: party("Dbtr"),
        remittance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-20T22:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <CreDtTm>2026-11-20T22:00:00</CreDtTm>
      <Acct><Id><IBAN>FR7617515000920400430518020</IBAN></Id><Ccy>EUR</Ccy><Nm>COMPTE</Nm></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">140.5</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>
      <Ntry>
        <NtryRef>R1</NtryRef><Amt Ccy="EUR">150.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts><BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><DtTm>2026-11-19T10:00:00</DtTm></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>DUPONT &amp; FILS</Nm></Cdtr></RltdPties>
          <RmtInf><Ustrd>FACTURE 12</Ustrd><Ustrd>NOV</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">5</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
        <AddtlNtryInf>CARTE 19/11</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

    fn read_all(xml: &str) -> Result<Vec<Item>, CamtError> {
        let mut reader = CamtReader::new(xml.as_bytes());
        let mut items = Vec::new();
        while let Some(item) = reader.next_item()? {
            items.push(item);
        }
        Ok(items)
    }

    #[test]
    fn camt_statement_head_then_entries() {
        let items = read_all(SAMPLE).unwrap();
        assert_eq!(items.len(), 3, "one head, two entries");
        let Item::Statement(head) = &items[0] else { panic!("the head comes first") };
        assert_eq!(head.iban.as_str(), "FR7617515000920400430518020");
        assert_eq!(head.account_name.as_deref(), Some("COMPTE"));
        let booked = head.booked.as_ref().unwrap();
        assert_eq!((booked.code.as_str(), booked.amount.to_minor().unwrap()), ("CLBD", -14050), "CLBD wins over OPBD");
        let Item::Entry(first) = &items[1] else { panic!("an entry") };
        assert_eq!(first.entry_reference.as_deref(), Some("R1"));
        assert_eq!(first.amount.to_minor().unwrap(), 15050);
        assert_eq!(first.status, TransactionStatus::Book);
        assert_eq!(first.value_date, Some(Date::constant(2026, 11, 19)), "DtTm keeps the day");
        assert_eq!(first.creditor.as_deref(), Some("DUPONT & FILS"), "entities are resolved");
        assert_eq!(first.remittance, ["FACTURE 12", "NOV"]);
        assert_eq!(first.bank_transaction_code.as_ref().unwrap().sub_family, "ESCT");
        assert_eq!(first.path, "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]");
        let Item::Entry(second) = &items[2] else { panic!("an entry") };
        assert_eq!(second.status, TransactionStatus::Othr, "PDNG in Sts/Cd (2019+ versions) is OTHR");
        assert_eq!(second.remittance, ["CARTE 19/11"], "AddtlNtryInf when there is no Ustrd");
    }

    #[test]
    fn camt_errors_name_the_element_and_line() {
        let bad = SAMPLE.replace("<Amt Ccy=\"EUR\">5</Amt>", "<Amt Ccy=\"EUR\">12,50</Amt>");
        let e = read_all(&bad).unwrap_err();
        assert_eq!(e.path, "Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt");
        assert_eq!(e.line, 21, "the line of the bad amount: {e}");
        let missing = SAMPLE.replace("<Amt Ccy=\"EUR\">5</Amt>", "");
        let e = read_all(&missing).unwrap_err();
        assert!(e.to_string().contains("Ntry[2]") && e.message.contains("Amt is missing"), "{e}");
        let precise = SAMPLE.replace("150.50", "150.505");
        assert!(read_all(&precise).unwrap_err().path.ends_with("Ntry[1]/Amt"), "more decimals than EUR has");
        let truncated = &SAMPLE[..SAMPLE.len() - 40];
        assert!(read_all(truncated).is_err(), "a truncated document is an error");
    }
}
