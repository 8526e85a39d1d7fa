"""Valid STET 1.4.0.47 payment requests for the sandbox, for run.py's set-up and stet_hooks.py.

What the bank takes on /v1 (docs/pisp.md, "What the bank takes"): one instruction, SEPA, euros
with at most two decimals, REDIRECT among the accepted approaches with an https
`successfulReportUrl`, a named beneficiary with a valid creditor IBAN, an `endToEndId` and one
remittance line, an execution day from today (Paris) to 30 days ahead, instant payments today.
The debtor is one of LEA SANDBOXA's accounts at 17515 (docs/sandbox.md), or none (the PSU
chooses on the bank's pages); nothing here is approved, so nothing is debited.
"""

from __future__ import annotations

import datetime

try:
    from zoneinfo import ZoneInfo

    PARIS = ZoneInfo("Europe/Paris")
except Exception:  # no tz database: UTC is at most two hours off, the dates keep a day's margin
    PARIS = datetime.timezone.utc

CREDITOR_IBAN = "FR7630004000031234567890143"  # a valid French IBAN outside the sandbox (tpp-guide.md)
CREDITOR_NAME = "Boulangerie Paul"
DEBTOR_IBANS = ("FR7617515000920400851811524", "FR7617515000920400430518020")  # LEA SANDBOXA, 17515
SUCCESS_URL = "https://www.mycallback.com/payment/ok"
FAILURE_URL = "https://www.mycallback.com/payment/ko"
AMOUNTS = ("12.25", "0.01", "245.10", "1", "99999.99")
# The kinds of valid payment the template varies over (`valid_payment(kind=...)`).
KINDS = ("single", "future-dated", "instant", "standing order", "PSU chooses the debtor", "every optional field")


def paris_today() -> datetime.date:
    return datetime.datetime.now(PARIS).date()


def paris_noon(days: int) -> str:
    """An RFC 3339 date-time on the Paris day `days` from today (noon UTC: the same Paris day)."""
    return (paris_today() + datetime.timedelta(days=days)).isoformat() + "T12:00:00Z"


def valid_payment(serial: str, h: int = 0, kind: str | None = None) -> dict:
    """A payment request the bank accepts on /v1 (201). `serial` makes paymentInformationId and the
    instruction ids unique (the same id with another body is refused); `h` picks the kind, the
    amount and the debtor."""
    kind = kind or KINDS[h % len(KINDS)]
    amount = AMOUNTS[(h >> 3) % len(AMOUNTS)]
    instruction = {
        "paymentId": {"instructionId": f"I-{serial}", "endToEndId": f"E2E-{serial}"},
        "instructedAmount": {"currency": "EUR", "amount": amount},
        "remittanceInformation": [f"invoice {serial}"],
    }
    payment = {
        "paymentInformationId": f"PI-{serial}",
        "creationDateTime": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "numberOfTransactions": 1,
        "initiatingParty": {"name": "schemathesis PISP"},
        "paymentTypeInformation": {"serviceLevel": "SEPA"},
        "debtorAccount": {"iban": DEBTOR_IBANS[(h >> 6) % len(DEBTOR_IBANS)]},
        "beneficiary": {"creditor": {"name": CREDITOR_NAME}, "creditorAccount": {"iban": CREDITOR_IBAN}},
        "chargeBearer": "SLEV",
        "creditTransferTransaction": [instruction],
        "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"], "successfulReportUrl": SUCCESS_URL},
    }
    if kind == "future-dated":
        payment["requestedExecutionDate"] = paris_noon(1 + (h >> 9) % 20)
    elif kind == "instant":
        payment["paymentTypeInformation"]["localInstrument"] = "INST"
        instruction["requestedExecutionDate"] = paris_noon(0)
    elif kind == "standing order":
        # 1.4.0.47: the schedule flat on the instruction, the beneficiary on the payment.
        instruction.update(
            requestedExecutionDate=paris_noon(2), frequency=("MNTH", "WEEK", "QUTR")[(h >> 9) % 3],
            executionRule=("FWNG", "PREC")[(h >> 11) % 2], endDate=paris_noon(200),
        )
    elif kind == "PSU chooses the debtor":
        del payment["debtorAccount"]
        instruction["beneficiary"] = payment.pop("beneficiary")
    elif kind == "every optional field":
        payment["paymentTypeInformation"].update(instructionPriority="NORM", categoryPurpose="CASH")
        payment["debtor"] = {
            "name": "LEA SANDBOXA", "postalAddress": {"country": "FR", "addressLine": ["1 rue de la Paix", "75002 Paris"]},
        }
        payment["ultimateCreditor"] = {
            "name": "Paul SARL", "organisationId": {"identification": "12345678900011", "schemeName": "SIRET", "issuer": "INSEE"},
        }
        payment["purpose"] = "COMC"
        payment["beneficiary"]["id"] = "BEN-1"
        payment["beneficiary"]["creditorAgent"] = {"bicFi": "BDFEFRPPCCT"}
        payment["supplementaryData"].update(unsuccessfulReportUrl=FAILURE_URL, scaHint="noScaExemption")
        instruction["ultimateCreditor"] = {"name": "Paul"}
        instruction["regulatoryReportingCodes"] = ["150"]
    return payment
