#!/usr/bin/env python3
"""A bounded schemathesis pass over stetgate's /stet/psd2/v1 API (STET 1.4.0.47), as a real TPP.

Run it through scripts/schemathesis.sh (which installs schemathesis and httpsig when missing), or
directly once they are installed:

    python3 scripts/schemathesis/run.py [--examples 30] [--seed 1447] [--time-limit 200]

End to end, with the binaries already built in target/debug (it never builds):

1. starts `stetgate sandbox` on a free loopback port with a throw-away data dir;
2. issues a QWAC and a QSealC with the roles PSP_AI, PSP_IC and PSP_PI from the sandbox CA
   (`stetgate certs issue`), registers the TPP and logs in as LEA SANDBOXA (9999999901) at bank
   17515 for an `aisp` and a `piisp` token (`stet-tpp register`, `stet-tpp login`), and takes the
   PISP's own `pisp` token (client credentials over mutual TLS, docs/pisp.md);
3. grants a consent on every account of the PSU (PUT /consents) and reads the resource ids back
   (GET /accounts), as a TPP would before asking for balances; and makes payment requests in four
   statuses for GET /payment-requests/{id} to read: one left waiting for the PSU (RCVD), and three
   LEA approves on the bank's pages (`stet-tpp pay --version v1`): debited (ACSC), dated in a few
   days (ACSP), not covered (RJCT CUST);
4. runs `schemathesis run` on the official definition crates/stet/spec/stet-psd2-v1.4.0.47.swagger.json
   against https://www.17515.sandbox.localhost:<port>/stet/psd2/v1, over mutual TLS with the QWAC,
   every request signed right before it is sent (stet_hooks.py, stet_signing.py);
5. prints every violation (method, path, status, answer) grouped by rule, and exits 1 when there is
   one, 2 when the harness itself could not run.

The rules, for every generated request:
  1. no 5xx (`stet_no_server_error`, schemathesis's not_a_server_error);
  2. every 4xx is the STET ErrorModel: a JSON object with timestamp, status (= the HTTP status),
     error, message, path (`stet_error_model`; `stet_schema_conformance` also holds the documented
     ones to the definition's ErrorModel, e.g. at most 140 characters);
  3. every 2xx conforms to the official response schema (`stet_schema_conformance`, schemathesis's
     response_schema_conformance), and a 204 has no body (`stet_no_content`);
  and, so that input validation is covered too: a request whose body, query or path violates the
  definition (as sent, validated by the harness with JSON Schema formats) is not answered 2xx
  (`stet_invalid_input_accepted`), and GET .../transactions does not refuse valid RFC 3339 dates
  inside the bank's history (`stet_valid_dates_refused`), and a payment request the bank takes
  (docs/pisp.md, including its deliberate differences from 1.4.0.47) is not refused
  (`stet_valid_payment_refused`). Besides schemathesis's own generation, the hooks turn every other
  valid case into a "near miss" (an amount as a JSON number, a lower-case IBAN, a JSON array for an
  object, a misspelled key, RFC 3339 variants, a payment one field away from valid...), and make
  some generated payment requests valid ones; see stet_hooks.py.

Operations: every one the definition describes: GET /accounts, GET /accounts/{id}/balances,
GET /accounts/{id}/transactions, PUT /consents, GET /trusted-beneficiaries,
POST /funds-confirmations, and payment initiation: POST /payment-requests,
GET and PUT /payment-requests/{id}, POST /payment-requests/{id}/confirmation (on v1 the bank
answers the last two 405 on purpose: docs/pisp.md). GET /end-user-identity, /o-confirmation and
GET /payment-requests/{id}/transactions are not in 1.4.0.47 (they came with 1.4.2 and 1.5).

Bounded: a fixed number of examples per operation and phase (--examples), the examples, coverage
and fuzzing phases (no stateful phase: the 2.0 definition has no links), no shrinking, one worker,
a fixed seed and no example database, so two runs send the same requests; and a hard cap on the
whole schemathesis run (--time-limit seconds), after which it is killed and the run fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SPEC = ROOT / "crates/stet/spec/stet-psd2-v1.4.0.47.swagger.json"
sys.path.insert(0, str(HERE))

PSU = "9999999901"  # LEA SANDBOXA, two accounts at bank 17515 (docs/sandbox.md)
ORG_ID = "PSDFR-ACPR-12345"  # the harness TPP's authorization number: its client_id
# Defined in stet_hooks.py; the first and third wrap schemathesis's own not_a_server_error and
# response_schema_conformance so that every failure is also written where report() reads it.
CHECKS = [
    "stet_no_server_error",
    "stet_error_model",
    "stet_schema_conformance",
    "stet_no_content",
    "stet_invalid_input_accepted",
    "stet_valid_dates_refused",
    "stet_edge_refusal",
    "stet_valid_payment_refused",
]
RULES = {
    "stet_no_server_error": "rule 1: a 5xx answer",
    "stet_error_model": "rule 2: a 4xx that is not the STET ErrorModel",
    "stet_schema_conformance": "rule 2/3: an answer that does not conform to the official schema",
    "stet_no_content": "rule 3: a 204 with a body",
    "stet_invalid_input_accepted": "input validation: a request violating the definition answered 2xx",
    "stet_valid_dates_refused": "input validation: valid RFC 3339 dates inside the history refused",
    "stet_edge_refusal": "edge: a request lacking what every TPP call needs answered 2xx",
    "stet_valid_payment_refused": "input validation: a payment request the bank takes (docs/pisp.md) refused",
}


class HarnessError(Exception):
    pass


def say(text: str) -> None:
    print(f"schemathesis/run.py: {text}", file=sys.stderr, flush=True)


def run(command: list[str], what: str, timeout: float = 60) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        raise HarnessError(f"{what} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def json_after_headers(text: str, what: str) -> dict:
    """stet-tpp prints the status line and headers, a blank line, then the JSON body."""
    start = text.find("\n{")
    body = text[start + 1 :] if start >= 0 else text
    try:
        return json.loads(body)
    except ValueError as e:
        raise HarnessError(f"{what}: no JSON body in {text!r}") from e


class Sandbox:
    def __init__(self, binary: Path, data_dir: Path, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [str(binary), "sandbox", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=data_dir.parent,
        )

    def port(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            match = re.search(r"^\s*URL\s+https://[^:/\s]+:(\d+)/", text, re.MULTILINE)
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                raise HarnessError(f"the sandbox exited with {self.process.returncode}:\n{text}")
            time.sleep(0.1)
        raise HarnessError(f"the sandbox printed no URL line in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def prepare(args, work: Path, sandbox: Sandbox) -> dict:
    """Certificates, registration, tokens, consent: the context the hooks read."""
    import requests

    from stet_payments import CREDITOR_IBAN, CREDITOR_NAME, DEBTOR_IBANS, paris_today, valid_payment
    from stet_signing import StetSignature, use_loopback_for_localhost

    use_loopback_for_localhost()
    stetgate, stet_tpp = args.bin_dir / "stetgate", args.bin_dir / "stet-tpp"
    data, certs = work / "data", work / "tpp"
    port = sandbox.port()
    origin = f"https://www.{args.bank}.sandbox.localhost:{port}"
    ca = data / "pki/ca.pem"
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime((args.bin_dir / "stetgate").stat().st_mtime))
    say(f"sandbox up at {origin} (data dir {data}; {args.bin_dir / 'stetgate'} built {built})")

    issued = run(
        [str(stetgate), "certs", "issue", "--org-id", ORG_ID, "--roles", "PSP_AI,PSP_IC,PSP_PI",
         "--name", "schemathesis TPP", "--out", str(certs), "--data-dir", str(data)],
        "stetgate certs issue",
    )
    match = re.search(r"keyId \(URL form\):\s*(\S+)", issued)
    if not match:
        raise HarnessError(f"stetgate certs issue printed no keyId (URL form):\n{issued}")
    key_id = match.group(1)
    bank = ["--url", origin, "--cacert", str(ca), "--certs", str(certs)]
    run([str(stet_tpp), "register", *bank, "--name", "schemathesis TPP", "--redirect-uri", "https://www.mycallback.com/"],
        "stet-tpp register")
    tokens = {}
    for scope in ("aisp", "piisp"):
        answer = json_after_headers(
            run([str(stet_tpp), "login", *bank, "--psu", PSU, "--scope", scope], f"stet-tpp login --scope {scope}"),
            f"stet-tpp login --scope {scope}",
        )
        if "access_token" not in answer:
            raise HarnessError(f"stet-tpp login --scope {scope}: no access_token in {answer}")
        tokens[scope] = answer["access_token"]

    base_path = "/stet/psd2/v1"
    base_url = origin + base_path
    session = requests.Session()
    session.cert = (str(certs / "qwac.pem"), str(certs / "qwac.key"))
    session.verify = str(ca)
    session.auth = StetSignature((certs / "qseal.key").read_text(), key_id)

    # The PISP's own token: client credentials, scope pisp, over mutual TLS with the QWAC (stet-tpp
    # has no command for it alone; docs/pisp.md, "The flow").
    answer = requests.post(origin + "/stet/psd2/oauth/token", timeout=10, verify=str(ca), cert=session.cert,
                           data={"grant_type": "client_credentials", "client_id": ORG_ID, "scope": "pisp"})
    if answer.status_code != 200 or "access_token" not in answer.text:
        raise HarnessError(f"client credentials (scope pisp) answered {answer.status_code}: {answer.text[:500]}")
    tokens["pisp"] = answer.json()["access_token"]

    def call(method, path, request_id, body=None, scope="aisp"):
        headers = {"X-Request-ID": request_id, "Authorization": "Bearer " + tokens[scope], "PSU-IP-Address": "192.0.2.1"}
        data_bytes = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data_bytes = json.dumps(body).encode()
        # verify= on the request: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
        response = session.request(method, base_url + path, headers=headers, data=data_bytes, timeout=10,
                                   verify=str(ca), cert=session.cert)
        return response

    accounts = call("GET", "/accounts", "setup-accounts-1")
    if accounts.status_code != 200:
        raise HarnessError(f"setup GET /accounts answered {accounts.status_code}: {accounts.text[:500]}")
    ibans = [a.get("accountId", {}).get("iban") for a in accounts.json().get("accounts", [])]
    ibans = [iban for iban in ibans if iban]
    if not ibans:
        raise HarnessError(f"setup GET /accounts listed no IBAN: {accounts.text[:500]}")
    full_consent = {
        "balances": [{"iban": iban} for iban in ibans],
        "transactions": [{"iban": iban} for iban in ibans],
        "psuIdentity": True,
        "trustedBeneficiaries": False,
    }
    granted = call("PUT", "/consents", "setup-consent", full_consent)
    if granted.status_code != 201:
        raise HarnessError(f"setup PUT /consents answered {granted.status_code}: {granted.text[:500]}")
    accounts = call("GET", "/accounts", "setup-accounts-2").json().get("accounts", [])
    resources = [
        {"resourceId": a["resourceId"], "iban": a["accountId"]["iban"]}
        for a in accounts
        if a.get("resourceId") and a.get("accountId", {}).get("iban")
    ]
    if not resources:
        raise HarnessError("setup: GET /accounts lists no resourceId after the consent")

    # Payment requests for GET /payment-requests/{id} to read in several statuses. One waits for the
    # PSU (RCVD); LEA approves the others on the bank's pages, which on v1 executes them.
    created = call("POST", "/payment-requests", "setup-payment-1", valid_payment("setup-1", kind="single"), scope="pisp")
    if created.status_code != 201 or not created.headers.get("Location"):
        raise HarnessError(f"setup POST /payment-requests answered {created.status_code}: {created.text[:500]}")
    payments = {created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]: "RCVD"}
    future = (paris_today() + datetime.timedelta(days=5)).isoformat()
    for amount, extra, expected in (("1.25", [], "ACSC"), ("2.50", ["--date", future], "ACSP"), ("9999.00", [], "RJCT")):
        what = f"stet-tpp pay --version v1 --amount {amount}"
        answer = json_after_headers(
            run([str(stet_tpp), "pay", *bank, "--key-id", key_id, "--version", "v1", "--psu", PSU, "--amount", amount,
                 "--payee", CREDITOR_NAME, "--payee-iban", CREDITOR_IBAN, "--debtor", DEBTOR_IBANS[0], *extra], what),
            what,
        ).get("paymentRequest", {})
        if "resourceId" not in answer:
            raise HarnessError(f"{what}: no paymentRequest.resourceId in the answer")
        status = answer.get("paymentInformationStatus")
        if status != expected:
            say(f"warning: {what} ended {status}, not {expected}")
        payments[answer["resourceId"]] = status
    say(f"TPP registered, tokens for aisp, piisp and pisp, consent on {', '.join(r['resourceId'] for r in resources)}, "
        f"payment requests {', '.join(f'{id} ({status})' for id, status in payments.items())}")
    return {
        "origin": origin,
        "base_path": base_path,
        "base_url": base_url,
        "ca": str(ca),
        "qwac_cert": str(certs / "qwac.pem"),
        "qwac_key": str(certs / "qwac.key"),
        "qseal_key": str(certs / "qseal.key"),
        "key_id": key_id,
        "tokens": tokens,
        "accounts": resources,
        "payment_requests": list(payments),
        "full_consent": full_consent,
        "spec": str(SPEC),
        "violations": str(work / "violations.jsonl"),
        "responses": str(work / "responses.jsonl"),
    }


def fuzz(args, work: Path, context: dict) -> tuple[int, float]:
    context_path = work / "context.json"
    context_path.write_text(json.dumps(context, indent=1))
    report_dir = args.report_dir or (work / "report")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(SPEC),
        "--url", context["base_url"],
        "--phases", "examples,coverage,fuzzing",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(args.examples),
        "--seed", str(args.seed),
        "--generation-database", "none",
        "--no-shrink",
        "--continue-on-failure",
        "--workers", "1",
        "--tls-verify", context["ca"],
        "--request-cert", context["qwac_cert"],
        "--request-cert-key", context["qwac_key"],
        "--request-timeout", "10",
        "--suppress-health-check", "all",
        "--report", "junit",
        "--report-dir", str(report_dir),
        "--no-color",
    ]
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = str(HERE / "stet_hooks.py")
    env["STET_FUZZ_CONTEXT"] = str(context_path)
    env.setdefault("PYTHONHASHSEED", "0")
    say(f"schemathesis: {args.examples} examples per operation and phase, seed {args.seed}, "
        f"at most {args.time_limit} s")
    output = work / "schemathesis.out"
    started = time.monotonic()
    with open(output, "wb") as out:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = process.wait(timeout=args.time_limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = -1
    elapsed = time.monotonic() - started
    text = output.read_text(errors="replace")
    if args.verbose:
        print(text)
    else:
        # The summary schemathesis prints at the end, without the per-failure details reported below.
        summary = text[text.rfind("=== SUMMARY") :] if "=== SUMMARY" in text else text[-3000:]
        # Errors (an exception in a hook, a network failure) are not violations: show them as is.
        errors = re.search(r"^=+ ERRORS =+$(.*?)(?=^=+ (FAILURES|WARNINGS|SUMMARY) =+$)", text, re.MULTILINE | re.DOTALL)
        if errors:
            print("schemathesis reported errors:\n" + errors.group(1).strip()[:6000] + "\n")
        print(summary.strip())
    print(f"(schemathesis's full output: {output})")
    if code == -1:
        raise HarnessError(f"schemathesis did not finish within {args.time_limit} s: killed")
    if code not in (0, 1):
        raise HarnessError(f"schemathesis exited {code} (an error of its own, not a violation): see {output}")
    return code, elapsed


def statistics(responses_path: Path) -> None:
    """How many answers of each status each operation got: what the checks actually saw."""
    if not responses_path.exists():
        print("no response was recorded")
        return
    table: OrderedDict = OrderedDict()
    for line in responses_path.read_text().splitlines():
        r = json.loads(line)
        table.setdefault(r["operation"], {}).setdefault(r["status"], 0)
        table[r["operation"]][r["status"]] += 1
    total = sum(sum(row.values()) for row in table.values())
    print(f"\nAnswers seen ({total} requests):")
    for operation, row in sorted(table.items()):
        print(f"    {operation:50} " + "  ".join(f"{status}: {n}" for status, n in sorted(row.items())))


def report(violations_path: Path) -> int:
    if not violations_path.exists():
        return 0
    seen = set()
    groups: OrderedDict = OrderedDict()
    for line in violations_path.read_text().splitlines():
        v = json.loads(line)
        key = (v["check"], v["request_id"])
        if key in seen:
            continue
        seen.add(key)
        # One group per rule, operation, status, near miss and kind of failure (the failure's first
        # lines with quoted values and numbers blanked).
        text = "\n".join([(v["title"] or "").strip()] + (v["message"] or "").strip().splitlines()[:2])
        kind = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", text)
        # A 5xx is grouped by method (e.g. every TRACE), the rest by operation.
        where = v["method"] if v["check"] == "stet_no_server_error" else v["operation"]
        groups.setdefault((v["check"], where, v["status"], kind), []).append(v)
    if not groups:
        return 0
    print()
    print(f"VIOLATIONS: {len(seen)} failing checks in {len(groups)} groups")
    for (check, operation, status, _), cases in groups.items():
        print()
        print(f"--- {RULES.get(check, check)} [{check}]: {operation} -> {status} ({len(cases)} requests)")
        title = cases[0]["title"]
        print(f"    {title}")
        message = [line for line in (cases[0]["message"] or "").strip().splitlines() if line.strip() and line != title]
        for text in message[:5]:
            print(f"    | {text[:200]}")
        near_misses = sorted({v["near_miss"] for v in cases if v.get("near_miss")})
        if near_misses:
            print(f"    near misses among them: {'; '.join(near_misses)}")
        for v in cases[:3]:
            print(f"    {v['method']} {v['path']}  (X-Request-ID {v['request_id']}, "
                  f"PSU-IP-Address {v['psu_ip_address'] or '(none)'})")
            if v["request_body"]:
                print(f"      request:  {v['request_body'][:300]}")
            print(f"      answer:   {v['status']} {v['response_body'][:300]}")
            if v.get("near_miss"):
                print(f"      (a near miss made by the harness: {v['near_miss']})")
        if len(cases) > 3:
            print(f"    ... and {len(cases) - 3} more")
    return len(groups)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("STET_FUZZ_EXAMPLES", 30)),
                        help="examples per operation and phase (schemathesis --max-examples) [30]")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("STET_FUZZ_SEED", 1447)))
    parser.add_argument("--time-limit", type=float, default=float(os.environ.get("STET_FUZZ_TIME_LIMIT", 200)),
                        help="seconds the schemathesis run may take before it is killed [200]")
    parser.add_argument("--bank", default="17515")
    parser.add_argument("--bin-dir", type=Path, default=Path(os.environ.get("STETGATE_BIN_DIR", ROOT / "target/debug")),
                        help="where the stetgate and stet-tpp binaries are [target/debug]")
    parser.add_argument("--report-dir", type=Path, help="keep schemathesis's JUnit report here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (sandbox data, logs, reports)")
    parser.add_argument("--verbose", action="store_true", help="print schemathesis's whole output")
    args = parser.parse_args()

    for name in ("stetgate", "stet-tpp"):
        if not (args.bin_dir / name).is_file():
            say(f"{args.bin_dir / name} is missing: build it first (cargo build -p stetgate -p stet-tpp); "
                "this script never builds")
            return 2
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="stetgate-schemathesis-"))
    sandbox = Sandbox(args.bin_dir / "stetgate", work / "data", work / "sandbox.log")
    status = 2
    try:
        context = prepare(args, work, sandbox)
        code, elapsed = fuzz(args, work, context)
        statistics(Path(context["responses"]))
        groups = report(Path(context["violations"]))
        panics = [line for line in (work / "sandbox.log").read_text(errors="replace").splitlines()
                  if "panicked" in line or '"level":"ERROR"' in line]
        if panics:
            print(f"\nThe sandbox logged {len(panics)} errors or panics, e.g.:")
            for line in panics[:5]:
                print(f"    {line[:300]}")
        total = time.monotonic() - started
        if groups or code != 0:
            if not groups:
                print("\nschemathesis failed without a violation of the harness's checks: see its errors above")
            print(f"\nFAILED: {groups} groups of violations (schemathesis {elapsed:.0f} s, {total:.0f} s in all)")
            status = 1
        else:
            print(f"\nOK: no violation (schemathesis {elapsed:.0f} s, {total:.0f} s in all)")
            status = 0
    except HarnessError as e:
        say(f"harness error: {e}")
        status = 2
    finally:
        sandbox.stop()
        if args.keep or status != 0:
            say(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
