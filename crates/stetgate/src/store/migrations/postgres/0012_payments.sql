-- stetgate schema, part 12: payment initiation (PISP).
-- Kept in step with ../sqlite/0012_payments.sql.

-- A payment request as the PISP posted it (validated, JSON) and what the bank did with it.
CREATE TABLE payment_requests (
    bank_code               TEXT NOT NULL,
    resource_id             TEXT NOT NULL,     -- the bank's id of the request (paymentRequestResourceId)
    client_id               TEXT NOT NULL,     -- the PISP
    payment_information_id  TEXT NOT NULL,     -- the PISP's id: one request per PISP and id
    api_version             TEXT NOT NULL,     -- the version it was posted on: v1, v1.4.2, v1.6.2
    body_hash               TEXT NOT NULL,     -- SHA-256 of the posted body, for the idempotent replay
    request                 TEXT NOT NULL,     -- the validated PaymentRequestResource, JSON
    status                  TEXT NOT NULL,     -- RCVD ACTC ACSP ACSC PART RJCT CANC
    reason                  TEXT,              -- the STET reason of RJCT and CANC
    nonce                   TEXT NOT NULL,
    instant                 BIGINT NOT NULL,   -- 1: SEPA instant (localInstrument INST)
    batch_booking           BIGINT NOT NULL,   -- 1: one debit for the whole payment
    psu_id                  TEXT,              -- the PSU who approved it
    debtor_resource_id      TEXT,              -- the account debited, once known
    debtor_iban             TEXT,              -- the debtor account the request named, if any
    success_url             TEXT NOT NULL,
    failure_url             TEXT,
    factor_hash             TEXT,              -- the psuAuthenticationFactor handed to the PISP, hashed
    factor_expires_at       BIGINT,
    created_at              BIGINT NOT NULL,
    approval_expires_at     BIGINT NOT NULL,   -- no decision by then: RJCT NOAS
    approved_at             BIGINT,
    confirmed_at            BIGINT,
    updated_at              BIGINT NOT NULL,
    version                 BIGINT NOT NULL,   -- compare-and-set
    PRIMARY KEY (bank_code, resource_id),
    UNIQUE (bank_code, client_id, payment_information_id)
);

CREATE INDEX payment_requests_by_status ON payment_requests (status);

-- One credit transfer of a request, with its schedule.
CREATE TABLE payment_instructions (
    bank_code        TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    position         BIGINT NOT NULL,
    instruction_id   TEXT NOT NULL,
    end_to_end_id    TEXT,
    amount_minor     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    creditor_name    TEXT NOT NULL,
    creditor_iban    TEXT,
    remittance       TEXT NOT NULL,            -- unstructured lines, newline-separated
    execution_date   TEXT NOT NULL,            -- the (first) Paris day it executes
    frequency        TEXT,                     -- standing orders: DAIL WEEK TOWK MNTH TOMN QUTR SEMI YEAR
    execution_rule   TEXT,                     -- standing orders: FWNG, PREC
    end_date         TEXT,                     -- standing orders: the last day, or none
    status           TEXT NOT NULL,            -- PDNG ACSP ACSC RJCT CANC
    reason           TEXT,
    PRIMARY KEY (bank_code, resource_id, position)
);

-- Every execution, claimed before the payment hub is called: one per instruction (or per batch,
-- position -1) and due day, whichever node gets there first.
CREATE TABLE payment_executions (
    bank_code        TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    position         BIGINT NOT NULL,
    due_date         TEXT NOT NULL,
    status           TEXT NOT NULL,            -- claimed, booked, rejected
    transaction_id   TEXT,
    reason           TEXT,
    claimed_at       BIGINT NOT NULL,
    done_at          BIGINT,
    PRIMARY KEY (bank_code, resource_id, position, due_date)
);

-- A PISP's authorization code and token bound to one payment request (1.4.2 o-confirmation).
ALTER TABLE authorization_codes ADD COLUMN payment_request_id TEXT;
ALTER TABLE token_pairs ADD COLUMN payment_request_id TEXT;
