"""schemathesis hooks for fuzzing a stetgate sandbox as a registered TPP (loaded by run.py).

run.py writes a context file (certificates, tokens, the PSU's accounts) and points
STET_FUZZ_CONTEXT at it. Here:

- `before_load_schema` drops the Authorization, Signature, Digest and X-Request-ID header
  parameters from the definition as loaded (the file is not touched): the harness sets them on
  every request, as a TPP's client library does, so schemathesis should not spend its cases
  generating (and above all negating) them.
- `before_call` turns every generated request into one a real TPP would send: a fresh
  X-Request-ID, the access token of the operation's scope, a PSU-IP-Address on most calls (so the
  4-a-day batch quota does not answer 429 to everything), the PSU's real account ids, IBANs, EUR
  and dates within the bank's history in most cases (otherwise everything stops at 403/404/400
  before the interesting code and no 2xx body is ever checked), and the `StetSignature` auth, which
  adds Digest and Signature to the prepared request right before it is sent. Only values that
  match the definition's pattern are replaced, by values that match it too, so a part the
  generator made schema-violating stays so; schemathesis re-derives which parts are negative after
  this hook anyway.
- `after_call` restores the full consent after every accepted PUT /consents, so the consent the
  fuzzer sends (often "nothing granted") does not hide balances and transactions from the rest of
  the run.
- the checks run.py selects, each failure also appended to the violations file run.py reports from:
  * `stet_no_server_error`: schemathesis's `not_a_server_error`;
  * `stet_schema_conformance`: schemathesis's `response_schema_conformance`;
  * `stet_error_model`: every 4xx is the STET ErrorModel (crates/stet/src/error.rs): a JSON
    object with `timestamp`, `status` (the HTTP status), `error`, `message`, `path`;
  * `stet_no_content`: a 204 has no body;
  * `stet_invalid_input_accepted`: a request whose body, query or path violates the official
    schema is not answered 2xx (schemathesis's `negative_data_rejection`, limited to those parts:
    the harness owns Authorization, Signature, Digest and X-Request-ID, and PSU-* headers are
    informational).
- `after_call` also notes every answer's status, for run.py's table of what was seen.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import sys
import zlib
from itertools import count

import requests
import schemathesis
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stet_signing import StetSignature, use_loopback_for_localhost  # noqa: E402

with open(os.environ["STET_FUZZ_CONTEXT"], encoding="utf-8") as f:
    CTX = json.load(f)

use_loopback_for_localhost()
with open(CTX["qseal_key"], encoding="utf-8") as f:
    SIGNER = StetSignature(f.read(), CTX["key_id"])
ACCOUNTS = CTX["accounts"]  # [{"resourceId": ..., "iban": ...}]
ERROR_MODEL_FIELDS = ("timestamp", "status", "error", "message", "path")
_sequence = count(1)


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
    return CTX["tokens"]["piisp"] if case.path == "/funds-confirmations" else CTX["tokens"]["aisp"]


# The definition's patterns. The harness only ever replaces a value that matches its pattern by
# another that does, so a part the generator made invalid stays invalid (and a valid one valid).
IBAN = re.compile(r"[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}")
CURRENCY = re.compile(r"[A-Z]{3,3}")
AMOUNT = re.compile(r"\-{0,1}[0-9]{1,13}(\.[0-9]{0,5}){0,1}")
RESOURCE_ID = re.compile(r"([a-zA-Z0-9 /\-?:\()\.,']{1,35})")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    """Moves most generated dateFrom/dateTo into the bank's 62-day depth, keeping the rest of the
    generated form (time, fraction, offset, or garbage), so that the date parser is what gets tested."""
    today = datetime.date.today()
    for name, days in (("dateFrom", -((h >> 9) % 60) - 1), ("dateTo", (h >> 15) % 5)):
        value = query.get(name)
        if not (isinstance(value, str) and DAY.match(value) and (h >> 11) % 3):
            continue
        try:
            datetime.date.fromisoformat(value[:10])
        except ValueError:
            continue  # an invalid day may be the very thing being tested
        query[name] = (today + datetime.timedelta(days=days)).isoformat() + value[10:]


@schemathesis.hook
def before_call(context, case, kwargs):
    h = _fingerprint(case)
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
    headers["X-Request-ID"] = f"fuzz-{next(_sequence)}-{h:08x}"
    headers["Authorization"] = "Bearer " + _scope_token(case)
    headers["Signature"] = "set-when-sent"  # StetSignature replaces it on the prepared request
    headers.pop("Digest", None)
    # 9 calls in 10 are made with the PSU present; the 10th keeps what was generated (often none: a
    # batch call, counted by the 4-a-day quota, 429 after that).
    if h % 10:
        headers["PSU-IP-Address"] = f"192.0.2.{h % 250 + 1}"

    # The PSU's real accounts in most cases, or everything stops at 403/404 and no 2xx is checked.
    if _valid(RESOURCE_ID, case.path_parameters.get("accountResourceId")) and h % 4:
        case.path_parameters["accountResourceId"] = ACCOUNTS[(h >> 3) % len(ACCOUNTS)]["resourceId"]
    if isinstance(case.query, dict):
        _seed_dates(case.query, h)
    if isinstance(case.body, dict):
        if case.path == "/funds-confirmations":
            _seed_funds_body(case.body, h)
        elif case.path == "/consents":
            _seed_consent_body(case.body, h)
    kwargs["auth"] = SIGNER


def _session() -> requests.Session:
    session = requests.Session()
    session.cert = (CTX["qwac_cert"], CTX["qwac_key"])
    session.verify = CTX["ca"]
    session.auth = SIGNER
    return session


def restore_consent(session: requests.Session | None = None) -> requests.Response:
    """PUT the full consent (balances and transactions on every account) with the aisp token."""
    session = session or _session()
    body = json.dumps(CTX["full_consent"]).encode()
    return session.put(
        CTX["base_url"] + "/consents",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Request-ID": f"restore-{next(_sequence)}",
            "Authorization": "Bearer " + CTX["tokens"]["aisp"],
            "PSU-IP-Address": "192.0.2.1",
        },
        timeout=10,
        # Explicit: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment.
        verify=CTX["ca"],
        cert=(CTX["qwac_cert"], CTX["qwac_key"]),
    )


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    with open(CTX["responses"], "a", encoding="utf-8") as out:
        out.write(json.dumps({
            "operation": f"{case.method} {case.path}",
            "status": response.status_code,
            "negative": bool(meta and meta.generation.mode.is_negative),
            "phase": str(meta.phase.name.value if hasattr(meta.phase.name, "value") else meta.phase.name) if meta else None,
            "request_id": response.request.headers.get("X-Request-ID"),
            "path": response.request.path_url,
            "request_body": _text(response.request.body, 300),
            "response_body": _text(response.content, 300),
        }) + "\n")
    if case.path == "/consents" and 200 <= response.status_code < 300:
        answer = restore_consent()
        if answer.status_code != 201:
            print(f"stet_hooks: restoring the consent answered {answer.status_code}: {answer.text[:300]}", file=sys.stderr)


def _text(data, limit):
    if data is None:
        return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data if len(data) <= limit else data[:limit] + f"... ({len(data)} chars)"


def _record(name, failure, response, case):
    """Appends a failed check to the violations file run.py reports from."""
    request = response.request
    path = request.path_url
    prefix = CTX["base_path"]
    record = {
        "check": name,
        "title": getattr(failure, "title", None) or str(failure).split("\n")[0],
        "message": getattr(failure, "message", None) or str(failure),
        "operation": f"{case.method} {case.path}",
        "method": request.method,
        "path": path[len(prefix) :] if path.startswith(prefix) else path,
        "request_id": request.headers.get("X-Request-ID"),
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
    """A body, query or path that violates the official schema is not answered 2xx."""
    if not 200 <= response.status_code < 300:
        return None
    meta = case.meta
    if meta is None or not any(
        meta.is_negative_at(location)
        for location in (ParameterLocation.BODY, ParameterLocation.QUERY, ParameterLocation.PATH)
    ):
        return None
    return negative_data_rejection(ctx, response, case)
