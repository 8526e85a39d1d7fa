"""schemathesis hooks for fuzzing a stetgate sandbox as a registered TPP (loaded by run.py).

run.py writes a context file (certificates, tokens, the PSU's accounts, the payment requests it made) and points
STET_FUZZ_CONTEXT at it. Here:

- `before_load_schema` drops the Authorization, Signature, Digest and X-Request-ID header
  parameters from the definition as loaded (the file is not touched): the harness sets them on
  every request, as a TPP's client library does, so schemathesis should not spend its cases
  generating (and above all negating) them.
- `filter_case` sends a fixed sample of the coverage phase's cases for the payment request
  operations, whose definition is large enough to yield some 1,550 cases each (`COVERAGE_SAMPLING`).
- `before_call` turns every generated request into one a real TPP sends: a fresh X-Request-ID,
  the access token of the operation's scope (the PISP's own client-credentials `pisp` token for
  everything under /payment-requests), a PSU-IP-Address on most calls (so the 4-a-day batch
  quota does not answer 429 to everything), and the `StetSignature` auth, which adds Digest and
  Signature to the prepared request right before it is sent. It also
  * seeds the PSU's real account ids and IBANs, EUR, and dates within the bank's 62-day history
    into most cases, replacing only values that match the definition's pattern by values that
    match it too (otherwise nearly everything stops at 403/404/400 before the interesting code,
    and no 2xx body is ever checked);
  * makes POST /payment-requests reach the bank's own rules: one generated valid case in three
    becomes a payment the bank takes (stet_payments.py: single, future-dated, instant, standing
    order, debtor chosen by the PSU, every optional field), and others are repaired
    (`_repair_payment`: SEPA, EUR, one instruction, the creditor IBAN, REDIRECT...) replacing
    only values that conform, so that a negative case keeps its one violation;
  * names one of this TPP's payment requests in most GET (PUT, confirmation)
    /payment-requests/{id}: the set-up's (RCVD, ACSC, ACSP, RJCT) or one created during the run;
  * turns every other positive case of funds-confirmations, consents and transactions, and two in
    three of payment requests, into a "near miss" (`_near_miss`): the same request with one value
    in a form a client plausibly sends and the definition does or does not allow (an amount as a
    JSON number, a lower-case or spaced IBAN, a body as a JSON array, a misspelled key, an RFC
    3339 date in lower case or without offset, an enum value of a later STET version...), going
    round a fixed catalogue (`PAYMENT_NEAR_MISSES` for payments). Random generation almost never
    produces these; they are where parsers are lenient. With one worker and a fixed seed the run
    stays deterministic.
- `after_call` notes every answer's status (run.py's table), remembers the id of every payment
  request created, and restores the full consent after every accepted PUT /consents, so the
  consent the fuzzer sends (often "nothing granted") does not hide balances and transactions from
  the rest of the run.
- the checks run.py selects; each failure is also appended to the violations file run.py reports:
  * `stet_no_server_error` (rule 1): schemathesis's `not_a_server_error`;
  * `stet_error_model` (rule 2): every 4xx is the STET ErrorModel (crates/stet/src/error.rs), a
    JSON object with `timestamp`, `status` (the HTTP status), `error`, `message`, `path`;
  * `stet_schema_conformance` (rule 3, and 2 for documented 4xx): schemathesis's
    `response_schema_conformance`, formats included;
  * `stet_no_content` (rule 3): a 204 has no body;
  * `stet_invalid_input_accepted`: the request actually sent (body, query, path) is validated
    against the definition (JSON Schema draft 4 with formats, RFC 3339 date-time); a 2xx answer to
    one that violates it is a failure. The bank's deliberate differences are allowed: the
    transaction dates of `BANK_DATE_FORMS`, and in payment requests the later versions' forms
    docs/pisp.md lists (`_as_1_4_0_47`: amounts as numbers, remittance as an object, a standing
    order in standingOrderCharacteristics), judged in the 1.4.0.47 form they stand for;
  * `stet_valid_dates_refused`: a 400 to GET .../transactions whose query is valid per the
    definition and whose dates lie inside the bank's history (so no business rule applies);
  * `stet_valid_payment_refused`: a payment request the bank takes (stet_payments.py's, alone or
    with one of the deliberate differences) answered anything but 201;
  * `stet_edge_refusal`: one case in twelve of each operation is sent without something the edge
    requires (`EDGE_VARIANTS`: no token, an unknown token, no signature, a signature by another
    key, a 71-character X-Request-ID, Accept: text/html); it must be refused (and, by rule 2,
    with an ErrorModel).
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import os
import re
import sys
import urllib.parse
import zlib
from itertools import count

import jsonschema_rs
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import response_schema_conformance

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stet_payments import (  # noqa: E402
    AMOUNTS, CREDITOR_IBAN, CREDITOR_NAME, DEBTOR_IBANS, FAILURE_URL, SUCCESS_URL, paris_noon, valid_payment,
)
from stet_signing import StetSignature, use_loopback_for_localhost  # noqa: E402

with open(os.environ["STET_FUZZ_CONTEXT"], encoding="utf-8") as f:
    CTX = json.load(f)
with open(CTX["spec"], encoding="utf-8") as f:
    SPEC = json.load(f)

use_loopback_for_localhost()
with open(CTX["qseal_key"], encoding="utf-8") as f:
    SIGNER = StetSignature(f.read(), CTX["key_id"])
ACCOUNTS = CTX["accounts"]  # [{"resourceId": ..., "iban": ...}]
# Payment requests of this TPP: the set-up's (RCVD, ACSC, ACSP, RJCT) and every one created by a 201
# of the run (after_call), to seed GET /payment-requests/{id} with.
PAYMENT_IDS: list[str] = list(CTX["payment_requests"])
PAYMENT_REQUESTS = "/payment-requests"
PAYMENT_REQUEST = "/payment-requests/{paymentRequestResourceId}"
ERROR_MODEL_FIELDS = ("timestamp", "status", "error", "message", "path")
TRANSACTIONS = "/accounts/{accountResourceId}/transactions"
HISTORY_DAYS = 62  # the retail depth of the sandbox's bank (docs/tpp-guide.md)
_sequence = count(1)
NEAR_MISSES: dict[str, str] = {}  # X-Request-ID -> what the harness changed
VALID_PAYMENTS: dict[str, str] = {}  # X-Request-ID -> the payment request the bank must take

# Headers the harness owns on every request: generating them only to overwrite them would make
# schemathesis spend its negative cases on them (it would then re-derive those cases as positive).
HARNESS_HEADERS = {"authorization", "signature", "digest", "x-request-id"}


@schemathesis.hook
def before_load_schema(context, raw_schema):
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and isinstance(operation.get("parameters"), list):
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (p.get("in") == "header" and str(p.get("name", "")).lower() in HARNESS_HEADERS)
                ]


# --- making a generated case a real TPP's request ---------------------------------------------

# The coverage phase derives every case the definition's keywords describe: for the payment
# request (PaymentRequestResource, some 60 properties deep) that is about 1,550 cases per operation,
# most of them one property of the wrong type, or a valid object with another optional property.
# To keep the run bounded it sends one in `n` of those scenarios, chosen by the case's fingerprint
# (the same ones every run), and of PUT /payment-requests/{id}, which v1 answers 405 whatever the
# body (docs/pisp.md), one case in 40 (and one in 2 of the confirmation's, 405 too). Every other
# scenario (missing required property, pattern, enum, format, maxLength, minItems...) is sent whole.
COVERAGE_SAMPLING = {
    ("POST", "/payment-requests"): {"incorrect_type": 15, "valid_object": 10},
    ("PUT", "/payment-requests/{paymentRequestResourceId}"): {"*": 40},
    ("POST", "/payment-requests/{paymentRequestResourceId}/confirmation"): {"*": 2},
}


@schemathesis.hook
def filter_case(context, case):
    rates = COVERAGE_SAMPLING.get((case.operation.method.upper(), case.operation.path))
    meta = case.meta
    if rates is None or meta is None or str(getattr(meta.phase.name, "value", meta.phase.name)) != "coverage":
        return True
    scenario = str(getattr(meta.phase.data, "scenario", ""))
    rate = rates.get(scenario, rates.get("*", 1))
    return _fingerprint(case) % rate == 0



def _fingerprint(case) -> int:
    """A stable number from the generated case, to make the harness's choices deterministic."""

    def plain(value):
        try:
            return json.dumps(value, sort_keys=True, default=repr)
        except (TypeError, ValueError):
            return repr(value)

    text = "|".join(
        [
            case.method,
            case.path,
            plain(case.path_parameters),
            plain(case.query),
            plain(dict(case.headers or {})),
            "-" if isinstance(case.body, NotSet) else plain(case.body),
        ]
    )
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _scope_token(case) -> str:
    if case.path.startswith(PAYMENT_REQUESTS):
        return CTX["tokens"]["pisp"]  # the PISP's own token (client credentials), docs/pisp.md
    return CTX["tokens"]["piisp"] if case.path == "/funds-confirmations" else CTX["tokens"]["aisp"]


# The definition's patterns (fullmatch).
IBAN = re.compile(r"[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}")
CURRENCY = re.compile(r"[A-Z]{3,3}")
AMOUNT = re.compile(r"\-{0,1}[0-9]{1,13}(\.[0-9]{0,5}){0,1}")
RESOURCE_ID = re.compile(r"([a-zA-Z0-9 /\-?:\()\.,']{1,35})")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _valid(pattern, value) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _seed_iban(identification, h: int) -> None:
    if isinstance(identification, dict) and _valid(IBAN, identification.get("iban")):
        identification["iban"] = ACCOUNTS[h % len(ACCOUNTS)]["iban"]


def _seed_funds_body(body: dict, h: int) -> None:
    if h % 4:
        _seed_iban(body.get("accountId"), h)
    amount = body.get("instructedAmount")
    if isinstance(amount, dict):
        if (h >> 4) % 4 and _valid(CURRENCY, amount.get("currency")):
            amount["currency"] = "EUR"
        if (h >> 6) % 3 == 0 and _valid(AMOUNT, amount.get("amount")):
            amount["amount"] = ("0.01", "12.25", "245.10", "999999.99")[(h >> 8) % 4]


def _seed_consent_body(body: dict, h: int) -> None:
    for key in ("balances", "transactions"):
        items = body.get(key)
        if isinstance(items, list) and (h >> 2) % 3:
            for i, item in enumerate(items):
                _seed_iban(item, h + i)


def _seed_dates(query: dict, h: int) -> None:
    """Moves most generated dateFrom/dateTo into the bank's history, keeping the rest of the
    generated form (time, fraction, offset, or garbage), so that the date parser is what gets tested."""
    today = datetime.date.today()
    for name, days in (("dateFrom", -((h >> 9) % 55) - 2), ("dateTo", (h >> 15) % 5)):
        value = query.get(name)
        if not (isinstance(value, str) and DAY.match(value) and (h >> 11) % 6):
            continue
        try:
            datetime.date.fromisoformat(value[:10])
        except ValueError:
            continue  # an invalid day may be the very thing being tested
        query[name] = (today + datetime.timedelta(days=days)).isoformat() + value[10:]


# --- payment requests --------------------------------------------------------------------------

IBAN_SCHEMA = SPEC["definitions"]["AccountIdentification"]["properties"]["iban"]
AMOUNT_SCHEMA = SPEC["definitions"]["AmountType"]["properties"]
APPROACHES_SCHEMA = SPEC["definitions"]["SupplementaryData"]["properties"]["acceptedAuthenticationApproach"]


def _fits(value, definition: str | None = None, schema: dict | None = None) -> bool:
    """Whether `value` conforms to the definition's `definition` (or to `schema`)."""
    return _first_error(schema or {"$ref": f"#/definitions/{definition}"}, value) is None


def _replace(obj, key: str, new, definition: str | None = None, schema: dict | None = None, add: bool = False) -> None:
    """obj[key] = new when the value there conforms (or is absent and `add`): a value violating the
    definition is kept, so that a negative case stays negative."""
    if not isinstance(obj, dict):
        return
    if key in obj and _fits(obj[key], definition, schema):
        if new is None:
            del obj[key]
        else:
            obj[key] = new
    elif key not in obj and add and new is not None:
        obj[key] = new


def _repair_beneficiary(beneficiary) -> None:
    if not isinstance(beneficiary, dict):
        return
    creditor = beneficiary.get("creditor")
    if isinstance(creditor, dict) and isinstance(creditor.get("name"), str) and not creditor["name"].strip():
        _replace(creditor, "name", CREDITOR_NAME, schema={"type": "string", "maxLength": 140})
    account = beneficiary.get("creditorAccount")
    if isinstance(account, dict):
        _replace(account, "iban", CREDITOR_IBAN, schema=IBAN_SCHEMA, add=True)
        _replace(account, "other", None, "GenericIdentification")
    else:
        _replace(beneficiary, "creditorAccount", {"iban": CREDITOR_IBAN}, add=True)


def _repair_payment(body: dict, h: int, serial: str) -> None:
    """Makes a generated payment request meet the bank's rules (docs/pisp.md, "What the bank
    takes") where the definition leaves them open: SEPA, euros, one instruction, a creditor IBAN,
    one remittance line, dates the bank's horizon allows, REDIRECT with an https report URL...
    Only values that conform to the definition are replaced and only optional fields are added, so
    a negative case keeps its violation; what the definition allows and the bank does not act on
    (names, addresses, purposes, agents...) stays as generated."""
    _replace(body, "paymentInformationId", f"PI-{serial}", "PaymentInformationId")
    for key in ("paymentInformationStatus", "statusReasonInformation"):  # set by the bank
        _replace(body, key, None, schema={"type": "string"})
    _replace(body, "requestedExecutionDate", paris_noon((h >> 5) % 10), "RequestedExecutionDate")
    instant = False
    info = body.get("paymentTypeInformation")
    if isinstance(info, dict):
        _replace(info, "serviceLevel", "SEPA", "ServiceLevelCode")
        if (h >> 2) % 3:
            _replace(info, "localInstrument", None, "LocalInstrumentCode")
        instant = info.get("localInstrument") == "INST"
    debtor = body.get("debtorAccount")
    if isinstance(debtor, dict):
        _replace(debtor, "other", None, "GenericIdentification")
        _replace(debtor, "iban", DEBTOR_IBANS[(h >> 7) % 2], schema=IBAN_SCHEMA, add=True)
    _repair_beneficiary(body.get("beneficiary"))
    instructions = body.get("creditTransferTransaction")
    if isinstance(instructions, list) and _fits(instructions, schema={"type": "array", "minItems": 1}):
        del instructions[1:]  # v1 takes one instruction
        _replace(body, "numberOfTransactions", 1, schema={"type": "integer", "minimum": 1})
    for t in instructions if isinstance(instructions, list) else []:
        if not isinstance(t, dict):
            continue
        amount = t.get("instructedAmount")
        if isinstance(amount, dict):
            _replace(amount, "currency", "EUR", schema=AMOUNT_SCHEMA["currency"])
            _replace(amount, "amount", AMOUNTS[(h >> 9) % len(AMOUNTS)], schema=AMOUNT_SCHEMA["amount"])
        if "beneficiary" not in t and not isinstance(body.get("beneficiary"), dict):
            t["beneficiary"] = {"creditor": {"name": CREDITOR_NAME}, "creditorAccount": {"iban": CREDITOR_IBAN}}
        _repair_beneficiary(t.get("beneficiary"))
        lines = t.get("remittanceInformation")
        if isinstance(lines, list):
            _replace(t, "remittanceInformation", lines[:1] or [f"invoice {serial}"], "UnstructuredRemittanceInformation")
        for key in ("transactionStatus", "statusReasonInformation"):  # set by the bank
            _replace(t, key, None, schema={"type": "string"})
        if "frequency" in t and _fits(t["frequency"], "FrequencyCode"):
            # A standing order: its first day, an end after it, never instant.
            _replace(t, "requestedExecutionDate", paris_noon(2), "RequestedExecutionDate", add=True)
            _replace(t, "endDate", paris_noon(200), "EndDate")
            if isinstance(info, dict):
                _replace(info, "localInstrument", None, "LocalInstrumentCode")
        else:
            _replace(t, "executionRule", None, "ExecutionRule")
            _replace(t, "endDate", None, "EndDate")
            _replace(t, "requestedExecutionDate", paris_noon(0 if instant else (h >> 11) % 10), "RequestedExecutionDate")
    if instant:
        _replace(body, "requestedExecutionDate", paris_noon(0), "RequestedExecutionDate")
    data = body.get("supplementaryData")
    if isinstance(data, dict):
        approaches = data.get("acceptedAuthenticationApproach")
        if isinstance(approaches, list) and "REDIRECT" not in approaches and _fits(approaches, schema=APPROACHES_SCHEMA):
            approaches.append("REDIRECT")
        _replace(data, "acceptedAuthenticationApproach", ["REDIRECT"], schema={"type": "array"}, add=True)
        _replace(data, "appliedAuthenticationApproach", None, "AppliedAuthenticationApproach")
        _replace(data, "successfulReportUrl", SUCCESS_URL, schema={"type": "string"}, add=True)
        _replace(data, "unsuccessfulReportUrl", FAILURE_URL, schema={"type": "string"})


def _seed_payment(case, h: int, serial: str) -> str | None:
    """POST /payment-requests: of the cases generated valid, one in three becomes a payment the bank
    takes (stet_payments.valid_payment, going round its kinds) and one in three is repaired
    (`_repair_payment`); of those generated invalid, one in two is repaired (keeping the violation),
    so that the violation is what the bank must refuse. The rest go as generated. Returns what a
    valid payment is, for `stet_valid_payment_refused`."""
    meta = case._meta
    negative = meta is None or meta.generation.mode.is_negative
    if not isinstance(case.body, dict):
        return None
    choice = h % 3 if not negative else 1 + h % 2
    if choice == 0:
        case.body = valid_payment(serial, h >> 4)
        return "a valid payment request (stet_payments.valid_payment)"
    if choice == 1:
        _repair_payment(case.body, h, serial)
    return None


# Near misses: (description, new value from the old one). Valid ones per RFC 3339 and the
# definition are marked so in the description; the checks judge from the request as sent anyway.
DATE_NEAR_MISSES = [
    ("date-time with lower-case t and z (valid RFC 3339)", lambda d: d + "t10:00:00z"),
    ("date-time with offset -00:00 (valid RFC 3339)", lambda d: d + "T10:00:00-00:00"),
    ("date-time with a 10-digit fraction (valid RFC 3339)", lambda d: d + "T10:00:00.1234567890Z"),
    ("date-time without offset (not RFC 3339)", lambda d: d + "T10:00:00"),
    ("a plain date (not a date-time)", lambda d: d),
    ("offset +0100 without colon (not RFC 3339)", lambda d: d + "T10:00:00+0100"),
    ("offset +24:00 (not RFC 3339)", lambda d: d + "T10:00:00+24:00"),
    ("space instead of T (not RFC 3339)", lambda d: d + " 10:00:00Z"),
    ("hour 24 (not RFC 3339)", lambda d: d + "T24:00:00Z"),
    ("decimal comma (not RFC 3339)", lambda d: d + "T10:00:00,5Z"),
]


def _spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _near_miss_funds(body: dict, k: int) -> str | None:
    amount, account = body.get("instructedAmount"), body.get("accountId")
    if not isinstance(amount, dict) or not isinstance(account, dict):
        return None
    iban = account.get("iban") if isinstance(account.get("iban"), str) else ACCOUNTS[0]["iban"]
    variants = [
        ("instructedAmount.amount as a JSON number 12.25", lambda: amount.__setitem__("amount", 12.25)),
        ("instructedAmount.amount as a JSON integer 100", lambda: amount.__setitem__("amount", 100)),
        ("instructedAmount.amount \"+12.25\"", lambda: amount.__setitem__("amount", "+12.25")),
        ("instructedAmount.amount \"12,25\"", lambda: amount.__setitem__("amount", "12,25")),
        ("accountId.iban in lower case", lambda: account.__setitem__("iban", iban.lower())),
        ("accountId.iban in groups of four", lambda: account.__setitem__("iban", _spaced(iban))),
        ("accountId.other a string beside the iban", lambda: account.__setitem__("other", "AAA")),
        ("accountId.other with a numeric identification beside the iban",
         lambda: account.__setitem__("other", {"identification": 12, "schemeName": "BANK"})),
        ("paymentCoverageRequestId of 36 characters", lambda: body.__setitem__("paymentCoverageRequestId", "A" * 36)),
        ("payee of 71 characters", lambda: body.__setitem__("payee", "P" * 71)),
    ]
    description, apply = variants[k % len(variants)]
    apply()
    return description


def _near_miss_consents(case, k: int) -> str | None:
    body = case.body
    if not isinstance(body, dict):
        return None
    iban = ACCOUNTS[k % len(ACCOUNTS)]["iban"]
    variant = k % 6
    if variant == 0:
        case.body = []
        return "body [] (a JSON array, not the Access object)"
    if variant == 1:
        case.body = [body.get("balances", []), body.get("transactions", [])]
        return "body [balances, transactions] (a JSON array, not the Access object)"
    if variant == 2 and "balances" in body:
        body["balance"] = body.pop("balances")
        return "key balances misspelled balance"
    if variant == 3 and "psuIdentity" in body:
        body["psuidentity"] = body.pop("psuIdentity")
        return "key psuIdentity misspelled psuidentity"
    if variant == 4:
        body["balances"] = [{"iban": iban.lower()}]
        return "balances[0].iban in lower case"
    body["transactions"] = [[iban]]
    return "transactions[0] as a JSON array [iban], not an AccountIdentification object"


def _near_miss_dates(query: dict, k: int) -> str | None:
    name = "dateTo" if isinstance(query.get("dateTo"), str) and not isinstance(query.get("dateFrom"), str) else "dateFrom"
    value = query.get(name)
    if not isinstance(value, str) or not DAY.match(value) or _day(value) is None:
        # No usable date: one inside the history, so that only the form can be refused.
        value = (datetime.date.today() - datetime.timedelta(days=k % 50 + 2)).isoformat()
    description, make = DATE_NEAR_MISSES[k % len(DATE_NEAR_MISSES)]
    query[name] = make(value[:10])
    return f"{name}: {description}"


def _first_instruction(body: dict) -> dict:
    return body["creditTransferTransaction"][0]


def _set(path: str, value):
    """A near-miss edit: sets the value at a dotted path ("0" for the first instruction)."""

    def apply(body):
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[last] = value

    return apply


def _delete(path: str):
    def apply(body):
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return apply


def _move_date_to_instruction(body):
    _first_instruction(body)["requestedExecutionDate"] = body.pop("requestedExecutionDate")


def _standing_order_1_5(body):
    t = _first_instruction(body)
    t["standingOrderCharacteristics"] = {
        "startDate": t.pop("requestedExecutionDate"), "endDate": t.pop("endDate"),
        "executionRule": t.pop("executionRule"), "frequency": t.pop("frequency"),
    }


def _remittance_object(body):
    t = _first_instruction(body)
    t["remittanceInformation"] = {"unstructured": t["remittanceInformation"]}


def _misspell_debtor_account(body):
    body["debtorAcount"] = body.pop("debtorAccount")


CTT = "creditTransferTransaction.0"
# Near misses of a payment request: a valid one (stet_payments.valid_payment of the given kind)
# with one edit. "taken on purpose" marks the deliberate differences from 1.4.0.47 that the bank
# documents (docs/pisp.md, "What the bank takes": amounts as strings or numbers, remittance as lines
# or {unstructured, structured}, an execution date on the payment or the instruction, a standing
# order's schedule flat or in standingOrderCharacteristics): `stet_valid_payment_refused` fails if
# one is refused, and `request_problems` judges them in their 1.4.0.47 form. "valid" marks edits the
# definition allows that the bank must take too. Every other edit violates the definition (then
# `stet_invalid_input_accepted` fails on a 2xx), or breaks one of the bank's own rules.
PAYMENT_NEAR_MISSES = [
    ("instructedAmount.amount as a JSON number 12.25 (taken on purpose)", "single",
     _set(f"{CTT}.instructedAmount.amount", 12.25), True),
    ("instructedAmount.amount \"12,25\"", "single", _set(f"{CTT}.instructedAmount.amount", "12,25"), False),
    ("remittanceInformation as {unstructured: [line]} (taken on purpose)", "single", _remittance_object, True),
    ("creditor IBAN in lower case", "single", _set("beneficiary.creditorAccount.iban", CREDITOR_IBAN.lower()), False),
    ("a standing order in standingOrderCharacteristics, the 1.5 form (taken on purpose)", "standing order",
     _standing_order_1_5, True),
    ("numberOfTransactions \"1\" (a string)", "single", _set("numberOfTransactions", "1"), False),
    ("requestedExecutionDate on the instruction, not the payment (valid)", "future-dated",
     _move_date_to_instruction, True),
    ("creationDateTime without offset (not RFC 3339)", "single",
     lambda b: b.__setitem__("creationDateTime", b["creationDateTime"][:19]), False),
    ("instructedAmount.amount as a JSON integer 100 (taken on purpose)", "future-dated",
     _set(f"{CTT}.instructedAmount.amount", 100), True),
    ("supplementaryData.acceptedAuthenticationApproach [\"REDIRECT\", \"SMS\"]", "single",
     _set("supplementaryData.acceptedAuthenticationApproach", ["REDIRECT", "SMS"]), False),
    ("remittanceInformation as {unstructured: [line], structured: []} (taken on purpose)", "instant",
     lambda b: _first_instruction(b).__setitem__(
         "remittanceInformation", {"unstructured": _first_instruction(b)["remittanceInformation"], "structured": []}
     ), True),
    ("requestedExecutionDate a plain date (not a date-time)", "future-dated",
     lambda b: b.__setitem__("requestedExecutionDate", b["requestedExecutionDate"][:10]), False),
    ("instructedAmount.amount \"+12.25\"", "single", _set(f"{CTT}.instructedAmount.amount", "+12.25"), False),
    ("requestedExecutionDate in lower case t and z (valid RFC 3339)", "future-dated",
     lambda b: b.__setitem__("requestedExecutionDate", b["requestedExecutionDate"].replace("T", "t").replace("Z", "z")),
     True),
    ("instructedAmount.currency \"eur\"", "single", _set(f"{CTT}.instructedAmount.currency", "eur"), False),
    ("paymentTypeInformation.categoryPurpose \"CORT\" (not a 1.4.0.47 CategoryPurposeCode)", "single",
     _set("paymentTypeInformation.categoryPurpose", "CORT"), False),
    ("creditor IBAN in groups of four", "single", _set("beneficiary.creditorAccount.iban", _spaced(CREDITOR_IBAN)), False),
    ("purpose \"SALA\" (not a 1.4.0.47 PurposeCode)", "single", _set("purpose", "SALA"), False),
    ("debtorAccount.iban in lower case", "single", _set("debtorAccount.iban", DEBTOR_IBANS[0].lower()), False),
    ("creationDateTime with offset +0100 (not RFC 3339)", "single",
     lambda b: b.__setitem__("creationDateTime", b["creationDateTime"][:19] + "+0100"), False),
    ("creationDateTime without seconds (not RFC 3339)", "single",
     lambda b: b.__setitem__("creationDateTime", b["creationDateTime"][:16] + "Z"), False),
    ("remittanceInformation line of 141 characters", "single", _set(f"{CTT}.remittanceInformation", ["R" * 141]), False),
    ("paymentInformationId of 36 characters", "single", _set("paymentInformationId", "P" * 36), False),
    ("supplementaryData.scaHint \"maybe\"", "single", _set("supplementaryData.scaHint", "maybe"), False),
    ("paymentTypeInformation.instructionPriority \"URGT\"", "single",
     _set("paymentTypeInformation.instructionPriority", "URGT"), False),
    ("debtor.postalAddress.country \"fr\"", "single",
     _set("debtor", {"name": "LEA SANDBOXA", "postalAddress": {"country": "fr", "addressLine": ["1 rue de la Paix"]}}),
     False),
    ("initiatingParty.name of 141 characters", "single", _set("initiatingParty.name", "N" * 141), False),
    ("beneficiary.creditorAgent.bicFi \"BDFEFRPP1\"", "single",
     _set("beneficiary.creditorAgent", {"bicFi": "BDFEFRPP1"}), False),
    ("regulatoryReportingCodes [\"12345678901\"] (11 characters)", "single",
     _set(f"{CTT}.regulatoryReportingCodes", ["12345678901"]), False),
    ("ultimateCreditor without a name", "single",
     _set("ultimateCreditor", {"postalAddress": {"country": "FR", "addressLine": []}}), False),
    ("paymentId.endToEndId missing", "single", _delete(f"{CTT}.paymentId.endToEndId"), False),
    ("requestedExecutionDate with a space instead of T (not RFC 3339)", "future-dated",
     lambda b: b.__setitem__("requestedExecutionDate", b["requestedExecutionDate"].replace("T", " ")), False),
    ("requestedExecutionDate with offset +01 (not RFC 3339)", "future-dated",
     lambda b: b.__setitem__("requestedExecutionDate", b["requestedExecutionDate"][:19] + "+01"), False),
    ("numberOfTransactions 2 for one instruction", "single", _set("numberOfTransactions", 2), False),
    ("creditTransferTransaction [] (none)", "single", _set("creditTransferTransaction", []), False),
    ("paymentInformationId with an underscore", "single",
     lambda b: b.__setitem__("paymentInformationId", b["paymentInformationId"] + "_x"), False),
    ("beneficiary.isTrusted \"yes\" (a string)", "single", _set("beneficiary.isTrusted", "yes"), False),
    ("fundsAvailability \"true\" (a string)", "single", _set("fundsAvailability", "true"), False),
    ("debtor.postalAddress.addressLine of 71 characters", "single",
     _set("debtor", {"name": "LEA SANDBOXA", "postalAddress": {"country": "FR", "addressLine": ["A" * 71]}}), False),
    ("frequency \"MONTHLY\"", "standing order", _set(f"{CTT}.frequency", "MONTHLY"), False),
    ("executionRule \"FOLLOWING\"", "standing order", _set(f"{CTT}.executionRule", "FOLLOWING"), False),
    ("standing order endDate without offset (not RFC 3339)", "standing order",
     lambda b: _first_instruction(b).__setitem__("endDate", _first_instruction(b)["endDate"][:19]), False),
    ("instructedAmount.amount \"12.255\" (three decimals: valid, not a euro amount)", "single",
     _set(f"{CTT}.instructedAmount.amount", "12.255"), False),
    ("creditor IBAN with a wrong check digit (valid per the definition)", "single",
     _set("beneficiary.creditorAccount.iban", CREDITOR_IBAN[:2] + "77" + CREDITOR_IBAN[4:]), False),
    ("key debtorAccount misspelled debtorAcount (valid per the definition)", "single", _misspell_debtor_account, False),
    ("successfulReportUrl over http (valid per the definition)", "single",
     _set("supplementaryData.successfulReportUrl", "http://www.mycallback.com/"), False),
    ("two remittance lines (valid per the definition; the bank takes one)", "single",
     _set(f"{CTT}.remittanceInformation", ["line 1", "line 2"]), False),
    ("initiatingParty as a JSON array [name], not a PartyIdentification object", "single",
     _set("initiatingParty", ["schemathesis PISP"]), False),
    ("instructedAmount as a JSON array [\"EUR\", \"12.25\"], not an AmountType object", "single",
     _set(f"{CTT}.instructedAmount", ["EUR", "12.25"]), False),
    ("beneficiary.creditorAgent.bicFi null (not a string)", "single",
     _set("beneficiary.creditorAgent", {"bicFi": None}), False),
    ("body [] (a JSON array, not the PaymentRequestResource)", "single", None, False),
]


def _near_miss_payment(case, k: int, serial: str) -> str:
    description, kind, edit, valid = PAYMENT_NEAR_MISSES[k % len(PAYMENT_NEAR_MISSES)]
    VALID_PAYMENTS.pop(case.headers["X-Request-ID"], None)
    body = valid_payment(serial, k, kind)
    if edit is None:
        body = []
    else:
        edit(body)
    case.body = body
    if valid:
        VALID_PAYMENTS[case.headers["X-Request-ID"]] = description
    return "payment: " + description


_near_miss_turns: dict[str, int] = {}
_near_miss_made: dict[str, int] = {}
_edge_turns: dict[str, int] = {}

# Refusals at the edge (docs/tpp-guide.md, "Conventions on every resource call"): one case in
# twelve of every operation goes without something a TPP must send, so that the edge's 4xx are
# checked against the ErrorModel too. Each must be refused.
EDGE_VARIANTS = [
    "no Authorization header",
    "an unknown bearer token",
    "an X-Request-ID of 71 characters",
    "Accept: text/html only",
    "no Signature header",
    "a Signature whose keyId names another QSealC",
]


def _edge_variant(case, kwargs) -> str | None:
    if case.method.upper() != case.operation.method.upper():
        return None  # schemathesis's own unsupported-method cases stay as they are
    turn = _edge_turns.get(case.path, 0)
    _edge_turns[case.path] = turn + 1
    if turn % 12 != 11:
        return None
    variant = EDGE_VARIANTS[(turn // 12) % len(EDGE_VARIANTS)]
    headers = case.headers
    if variant == "no Authorization header":
        del headers["Authorization"]
    elif variant == "an unknown bearer token":
        headers["Authorization"] = "Bearer 0000000000000000000000000000000000000000000"
    elif variant == "an X-Request-ID of 71 characters":
        headers["X-Request-ID"] = "R" * 71
    elif variant == "Accept: text/html only":
        headers["Accept"] = "text/html"
    elif variant == "no Signature header":
        del headers["Signature"]
        kwargs["auth"] = None
    else:
        kwargs["auth"] = StetSignature(SIGNER.key_pem, CTX["key_id"].rsplit("_", 1)[0] + "_" + "0" * 64)
    return f"edge: {variant}"


def _near_miss(case, serial: str) -> str | None:
    """Every other case generated valid (two in three of the payment requests) becomes a near
    miss, going round the catalogue in turn (so each variant is sent at least once in every run;
    see the module's doc)."""
    meta = case._meta
    if meta is None or meta.generation.mode.is_negative or case.method.upper() != case.operation.method.upper():
        return None
    if case.path == "/funds-confirmations" and isinstance(case.body, dict):
        mutate = lambda k: _near_miss_funds(case.body, k)  # noqa: E731
    elif case.path == "/consents" and case.method == "PUT" and isinstance(case.body, dict):
        mutate = lambda k: _near_miss_consents(case, k)  # noqa: E731
    elif case.path == TRANSACTIONS and case.method == "GET" and isinstance(case.query, dict):
        mutate = lambda k: _near_miss_dates(case.query, k)  # noqa: E731
    elif case.path == PAYMENT_REQUESTS and case.method == "POST":
        mutate = lambda k: _near_miss_payment(case, k, serial)  # noqa: E731
    else:
        return None
    turn = _near_miss_turns.get(case.path, 0)
    _near_miss_turns[case.path] = turn + 1
    # Two in three for payment requests, whose catalogue is the longest; one in two elsewhere.
    if not (turn % 3 if case.path == PAYMENT_REQUESTS else turn % 2):
        return None
    k = _near_miss_made.get(case.path, 0)
    _near_miss_made[case.path] = k + 1
    return mutate(k)


@schemathesis.hook
def before_call(context, case, kwargs):
    h = _fingerprint(case)
    # Own copies: schemathesis may build later cases from the same objects (the coverage phase
    # does), and an edit here must not leak into them.
    case.headers = case.headers.copy()
    case.path_parameters = copy.deepcopy(case.path_parameters)
    case.query = copy.deepcopy(case.query)
    if not isinstance(case.body, NotSet):
        case.body = copy.deepcopy(case.body)
    headers = case.headers
    # Header values as a client library sends them: stripped, printable ASCII (httpsig signs ASCII).
    for name in list(headers.keys()):
        value = headers[name]
        value = value if isinstance(value, str) else str(value)
        value = value.strip(" \t")
        if not value.isascii() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            del headers[name]
        else:
            headers[name] = value
    request_id = f"fuzz-{next(_sequence)}-{h:08x}"
    headers["X-Request-ID"] = request_id
    headers["Authorization"] = "Bearer " + _scope_token(case)
    headers["Signature"] = "set-when-sent"  # StetSignature replaces it on the prepared request
    headers.pop("Digest", None)
    # 9 calls in 10 are made with the PSU present; the 10th keeps what was generated (often none: a
    # batch call, counted by the 4-a-day quota, 429 after that).
    if h % 10:
        headers["PSU-IP-Address"] = f"192.0.2.{h % 250 + 1}"

    if _valid(RESOURCE_ID, case.path_parameters.get("accountResourceId")) and h % 4:
        case.path_parameters["accountResourceId"] = ACCOUNTS[(h >> 3) % len(ACCOUNTS)]["resourceId"]
    if isinstance(case.query, dict):
        _seed_dates(case.query, h)
    if isinstance(case.body, dict):
        if case.path == "/funds-confirmations":
            _seed_funds_body(case.body, h)
        elif case.path == "/consents":
            _seed_consent_body(case.body, h)
    serial = request_id[len("fuzz-") :]  # unique in the run: paymentInformationId and instruction ids
    if case.path == PAYMENT_REQUESTS and case.method == "POST" == case.operation.method.upper():
        valid = _seed_payment(case, h, serial)
        if valid:
            VALID_PAYMENTS[request_id] = valid
    # Most GET (and PUT, confirmation) /payment-requests/{id} name one of this TPP's requests: half
    # of them one of the set-up's four statuses, half any request created so far.
    if _valid(RESOURCE_ID, case.path_parameters.get("paymentRequestResourceId")) and h % 4:
        known = PAYMENT_IDS[: len(CTX["payment_requests"])] if (h >> 3) % 2 else PAYMENT_IDS
        case.path_parameters["paymentRequestResourceId"] = known[(h >> 4) % len(known)]
    kwargs["auth"] = SIGNER
    near_miss = _edge_variant(case, kwargs) or _near_miss(case, serial)
    if near_miss:
        NEAR_MISSES[headers.get("X-Request-ID", request_id)] = near_miss


def restore_consent() -> requests.Response:
    """PUT the full consent (balances and transactions on every account) with the aisp token."""
    session = requests.Session()
    return session.put(
        CTX["base_url"] + "/consents",
        data=json.dumps(CTX["full_consent"]).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Request-ID": f"restore-{next(_sequence)}",
            "Authorization": "Bearer " + CTX["tokens"]["aisp"],
            "PSU-IP-Address": "192.0.2.1",
        },
        auth=SIGNER,
        timeout=10,
        # On the request: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
        verify=CTX["ca"],
        cert=(CTX["qwac_cert"], CTX["qwac_key"]),
    )


def _text(data, limit):
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data if len(data) <= limit else data[:limit] + f"... ({len(data)} chars)"


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    request_id = response.request.headers.get("X-Request-ID")
    with open(CTX["responses"], "a", encoding="utf-8") as out:
        record = {
            "operation": f"{case.method} {case.path}",
            "status": response.status_code,
            "negative": bool(meta and meta.generation.mode.is_negative),
            "phase": getattr(meta.phase.name, "value", str(meta.phase.name)) if meta else None,
            "near_miss": NEAR_MISSES.get(request_id),
            "request_id": request_id,
            "path": response.request.path_url,
            "request_body": _text(response.request.body, 300),
            "response_body": _text(response.content, 300),
        }
        out.write(json.dumps(record) + "\n")
    if case.path == PAYMENT_REQUESTS and response.status_code == 201:
        # schemathesis's Response: lower-case names, a list of values each.
        created = (response.headers.get("location") or [""])[0].rstrip("/").rsplit("/", 1)[-1]
        if _valid(RESOURCE_ID, created):
            PAYMENT_IDS.append(created)
    if case.path == "/consents" and 200 <= response.status_code < 300:
        answer = restore_consent()
        if answer.status_code != 201:
            print(f"stet_hooks: restoring the consent answered {answer.status_code}: {answer.text[:300]}", file=sys.stderr)


# --- what the request actually sent, judged against the definition ------------------------------

_validators: dict[str, jsonschema_rs.Validator] = {}


def _validator(schema: dict):
    key = json.dumps(schema, sort_keys=True)
    if key not in _validators:
        _validators[key] = jsonschema_rs.Draft4Validator(
            {"allOf": [schema], "definitions": SPEC["definitions"]}, validate_formats=True
        )
    return _validators[key]


def _first_error(schema: dict, value) -> str | None:
    for error in _validator(schema).iter_errors(value):
        where = "/".join(str(p) for p in error.instance_path)
        return f"{where + ': ' if where else ''}{error.message}"
    return None


PARAMETER_KEYWORDS = ("type", "format", "pattern", "maxLength", "minLength", "enum", "maximum", "minimum")


# Deliberate differences from the definition, as the bank publishes its API (docs/tpp-guide.md,
# "Account information"): dateFrom and dateTo are also accepted as YYYY-MM-DDTHH:MM:SS.SSS with no
# offset (Paris time), with a +HHMM offset, and (a stetgate addition) as a plain date. A request
# using one of these forms is not a violation when it is answered 2xx.
BANK_DATE_FORMS = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{4})?)?$"
)


def _bank_form(name: str, value: str) -> bool:
    return name in ("dateFrom", "dateTo") and BANK_DATE_FORMS.match(value) is not None


# Deliberate differences from 1.4.0.47 in payment requests (docs/pisp.md, "What the bank takes"):
# the bank reads every version's form on every path, so on /v1 too it takes
# - instructedAmount.amount as a JSON number (1.4.2 and later; the issue: amounts as strings or
#   numbers in every version);
# - remittanceInformation as an object {unstructured: [...], structured: [...]} (1.4.2 and later);
# - a standing order's schedule in standingOrderCharacteristics {startDate, endDate, executionRule,
#   frequency} (1.5) as well as flat on its instruction (1.4.x), and requestedExecutionDate on the
#   payment or on the instruction (both in 1.4.0.47 already).
# A request using one of these forms is judged in the 1.4.0.47 form it stands for, so only what
# that form gets wrong (an amount "1e+20", a remittance line of 141 characters, a startDate that is
# not RFC 3339...) is a violation when answered 2xx. Also deliberate: on v1 PUT /payment-requests/{id}
# and POST /payment-requests/{id}/confirmation answer 405 (the bank's v1; docs/pisp.md, "The flow").
def _as_1_4_0_47(document):
    document = copy.deepcopy(document)
    instructions = document.get("creditTransferTransaction") if isinstance(document, dict) else None
    for t in instructions if isinstance(instructions, list) else []:
        if not isinstance(t, dict):
            continue
        amount = t.get("instructedAmount")
        number = amount.get("amount") if isinstance(amount, dict) else None
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            amount["amount"] = repr(number)
        remittance = t.get("remittanceInformation")
        if isinstance(remittance, dict) and set(remittance) <= {"unstructured", "structured"}:
            t["remittanceInformation"] = remittance.get("unstructured", [])
        schedule = t.get("standingOrderCharacteristics")
        if isinstance(schedule, dict):
            del t["standingOrderCharacteristics"]
            for key, flat in (("startDate", "requestedExecutionDate"), ("endDate", "endDate"),
                              ("executionRule", "executionRule"), ("frequency", "frequency")):
                if key in schedule:
                    t[flat] = schedule[key]
    return document


def request_problems(response, case) -> list[str]:
    """Where the request as sent violates the definition (body, query and path parameters)."""
    operation = SPEC["paths"][case.path][case.method.lower()]
    request = response.request
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query, keep_blank_values=True)
    problems = []
    for parameter in operation.get("parameters", []):
        name, where = parameter.get("name"), parameter.get("in")
        if where in ("query", "path"):
            values = query.get(name) if where == "query" else (
                [case.path_parameters[name]] if name in case.path_parameters else None
            )
            if values is None:
                if parameter.get("required"):
                    problems.append(f"{where} parameter {name} is missing")
                continue
            if len(values) != 1:
                continue  # a repeated parameter: the definition says nothing of it; not judged
            if _bank_form(name, values[0]):
                continue
            schema = {k: parameter[k] for k in PARAMETER_KEYWORDS if k in parameter}
            error = _first_error(schema, values[0])
            if error:
                problems.append(f"{where} parameter {name}={values[0]!r}: {error}")
        elif where == "body":
            body = request.body
            if not body:
                if parameter.get("required"):
                    problems.append("the required body is missing")
                continue
            try:
                document = json.loads(body)
            except ValueError:
                problems.append("the body is not JSON")
                continue
            if case.path in (PAYMENT_REQUESTS, PAYMENT_REQUEST):
                document = _as_1_4_0_47(document)
            error = _first_error(parameter["schema"], document)
            if error:
                problems.append(f"body: {error}")
    return problems


# --- checks ----------------------------------------------------------------------------------

def _record(name, failure, response, case):
    """Appends a failed check to the violations file run.py reports from."""
    request = response.request
    path = request.path_url
    prefix = CTX["base_path"]
    request_id = request.headers.get("X-Request-ID")
    record = {
        "check": name,
        "title": getattr(failure, "title", None) or str(failure).split("\n")[0],
        "message": getattr(failure, "message", None) or str(failure),
        "operation": f"{case.method} {case.path}",
        "near_miss": NEAR_MISSES.get(request_id),
        "method": request.method,
        "path": path[len(prefix) :] if path.startswith(prefix) else path,
        "request_id": request_id,
        "psu_ip_address": request.headers.get("PSU-IP-Address"),
        "request_body": _text(request.body, 600),
        "status": response.status_code,
        "response_body": _text(response.content, 600),
    }
    with open(CTX["violations"], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def recorded(check):
    """A check whose failures are also written to the violations file."""

    @functools.wraps(check)
    def wrapper(ctx, response, case):
        try:
            return check(ctx, response, case)
        except AssertionError as failure:  # schemathesis's Failure is an AssertionError too
            _record(check.__name__, failure, response, case)
            raise

    return schemathesis.check(wrapper)


@recorded
def stet_no_server_error(ctx, response, case):
    """Rule 1: no 5xx (schemathesis's not_a_server_error)."""
    return not_a_server_error(ctx, response, case)


@recorded
def stet_error_model(ctx, response, case):
    """Rule 2: every 4xx is the STET ErrorModel {timestamp, status, error, message, path}."""
    status = response.status_code
    if not 400 <= status < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"a {status} answer whose body is not JSON (the STET ErrorModel is required)") from None
    if not isinstance(body, dict):
        raise AssertionError(f"a {status} answer whose body is a JSON {type(body).__name__}, not an ErrorModel object")
    missing = [name for name in ERROR_MODEL_FIELDS if name not in body]
    if missing:
        raise AssertionError(f"ErrorModel of a {status} lacks {', '.join(missing)}")
    if body["status"] != status or isinstance(body["status"], bool):
        raise AssertionError(f"ErrorModel status {body['status']!r} is not the HTTP status {status}")
    wrong = [name for name in ("timestamp", "error", "message", "path") if not isinstance(body[name], str)]
    if wrong:
        raise AssertionError(f"ErrorModel fields that are not strings: {', '.join(wrong)}")
    return True


@recorded
def stet_schema_conformance(ctx, response, case):
    """Rules 2 and 3: the body conforms to the official response schema of its status (schemathesis's
    response_schema_conformance: every 2xx, and the ErrorModel definition for the documented 4xx)."""
    return response_schema_conformance(ctx, response, case)


@recorded
def stet_no_content(ctx, response, case):
    """Rule 3: a 204 carries no body."""
    if response.status_code == 204 and response.content:
        raise AssertionError(f"204 No Content with a {len(response.content)}-byte body")
    return None


@recorded
def stet_invalid_input_accepted(ctx, response, case):
    """A request whose body, query or path violates the definition is not answered 2xx."""
    if not 200 <= response.status_code < 300:
        return None
    problems = request_problems(response, case)
    if problems:
        raise AssertionError(
            f"Schema-violating request answered {response.status_code}\n" + "\n".join(problems)
        )
    return True


@recorded
def stet_valid_dates_refused(ctx, response, case):
    """GET .../transactions with a valid query and dates inside the bank's history is not a 400."""
    if case.path != TRANSACTIONS or response.status_code != 400 or request_problems(response, case):
        return None
    if NEAR_MISSES.get(response.request.headers.get("X-Request-ID"), "").startswith("edge:"):
        return None  # refused at the edge on purpose
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(response.request.url).query, keep_blank_values=True)
    today = datetime.date.today()
    first = today - datetime.timedelta(days=HISTORY_DAYS - 3)  # a margin for time zones
    days = {}
    for name in ("dateFrom", "dateTo"):
        if name in query:
            day = _day(query[name][0]) if len(query[name]) == 1 else None
            if day is None or not first <= day <= today + datetime.timedelta(days=5):
                return None
            days[name] = day
    if not days:
        return None
    if len(days) == 2 and days["dateTo"] <= days["dateFrom"] + datetime.timedelta(days=1):
        return None
    try:
        explanation = json.loads(response.content).get("error", "")
    except (ValueError, AttributeError):
        explanation = _text(response.content, 200)
    sent = ", ".join(f"{name}={query[name][0]!r}" for name in days)
    raise AssertionError(f"Schema-valid dates inside the history refused with 400\n{sent}: {explanation}")


@recorded
def stet_edge_refusal(ctx, response, case):
    """A request without something the edge requires (see EDGE_VARIANTS) is not answered 2xx."""
    variant = NEAR_MISSES.get(response.request.headers.get("X-Request-ID"), "")
    if variant.startswith("edge:") and 200 <= response.status_code < 300:
        raise AssertionError(f"Request with {variant[6:]} answered {response.status_code}")
    return None


@recorded
def stet_valid_payment_refused(ctx, response, case):
    """A payment request the bank takes (stet_payments.valid_payment, alone or with one of the
    deliberate differences from 1.4.0.47 docs/pisp.md lists) is answered 201."""
    request_id = response.request.headers.get("X-Request-ID")
    what = VALID_PAYMENTS.get(request_id)
    if what is None or NEAR_MISSES.get(request_id, "").startswith("edge:") or response.status_code == 201:
        return None
    try:
        explanation = json.loads(response.content).get("message", "")
    except (ValueError, AttributeError):
        explanation = _text(response.content, 200)
    raise AssertionError(f"A payment request the bank takes answered {response.status_code}\n{what}: {explanation}")
