#!/usr/bin/env python3
"""Writes a large camt.053.001.02 end-of-day statement to stdout, for measuring the memory of
`stetgate ledger import` (docs/performance.md, "Statement import"). One account (the IBAN of
crates/stetgate/tests/data/camt/holders.csv's first row) and N booked entries with references.

    scripts/camt-large.py 2000000 > /tmp/large.xml
"""
import sys

IBAN = "FR7617515900001000000000145"


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    out = sys.stdout
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>\n'
              '<GrpHdr><MsgId>LARGE</MsgId><CreDtTm>2026-11-20T23:30:00</CreDtTm></GrpHdr>\n'
              f'<Stmt><Id>LARGE-1</Id><CreDtTm>2026-11-20T23:30:00</CreDtTm>'
              f'<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n'
              '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
              '<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>\n')
    for i in range(entries):
        day = 1 + i % 28
        out.write(
            f'<Ntry><NtryRef>L{i:012d}</NtryRef><Amt Ccy="EUR">{i % 10000}.{i % 100:02d}</Amt>'
            f'<CdtDbtInd>{"DBIT" if i % 3 else "CRDT"}</CdtDbtInd><Sts>BOOK</Sts>'
            f'<BookgDt><Dt>2026-10-{day:02d}</Dt></BookgDt><ValDt><Dt>2026-10-{day:02d}</Dt></ValDt>'
            '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>'
            '<NtryDtls><TxDtls><RltdPties><Cdtr><Nm>FOURNISSEUR EXEMPLE SA</Nm></Cdtr></RltdPties>'
            f'<RmtInf><Ustrd>FACTURE {i} REGLEMENT PAR VIREMENT SEPA</Ustrd></RmtInf></TxDtls></NtryDtls>'
            '</Ntry>\n')
    out.write('</Stmt></BkToCstmrStmt></Document>\n')


if __name__ == "__main__":
    main()
