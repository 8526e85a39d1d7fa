-- stetgate schema, part 1: banks and the built-in ledger.
-- Kept in step with ../sqlite/0001_ledger.sql: same tables, same columns, same meaning.
-- Money is integer minor units (cents); civil dates are ISO 'YYYY-MM-DD' text; instants are
-- Unix milliseconds.

CREATE TABLE banks (
    code        TEXT PRIMARY KEY,          -- French bank code, 5 digits
    name        TEXT NOT NULL,
    brand       TEXT NOT NULL,             -- caisse-epargne, banque-populaire, ...
    created_at  BIGINT NOT NULL
);

CREATE TABLE psus (
    bank_code     TEXT NOT NULL REFERENCES banks (code),
    psu_id        TEXT NOT NULL,           -- online-banking identifier
    display_name  TEXT NOT NULL,
    name_prefix   TEXT,                    -- STET NamePrefixCode (MADM, MISS, MIST ...)
    first_name    TEXT,
    last_name     TEXT,
    segment       TEXT NOT NULL,           -- retail, professional, large-professional, corporate
    PRIMARY KEY (bank_code, psu_id)
);

CREATE TABLE accounts (
    bank_code             TEXT NOT NULL REFERENCES banks (code),
    resource_id           TEXT NOT NULL,
    iban                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    currency              TEXT NOT NULL,
    usage                 TEXT NOT NULL,   -- PRIV, ORGA
    cash_account_type     TEXT NOT NULL,   -- CACC, CARD
    segment               TEXT NOT NULL,
    status                TEXT NOT NULL,   -- open, closed, blocked
    local_number          TEXT,            -- the account number as the bank prints it
    booked_balance_minor  BIGINT NOT NULL,
    overdraft_minor       BIGINT NOT NULL,
    PRIMARY KEY (bank_code, resource_id),
    UNIQUE (bank_code, iban)
);

CREATE TABLE account_holders (
    bank_code    TEXT NOT NULL,
    psu_id       TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    psu_status   TEXT NOT NULL,            -- Account Holder, Co-account Holder
    position     BIGINT NOT NULL,          -- order in the PSU's account list
    PRIMARY KEY (bank_code, psu_id, resource_id),
    FOREIGN KEY (bank_code, psu_id) REFERENCES psus (bank_code, psu_id),
    FOREIGN KEY (bank_code, resource_id) REFERENCES accounts (bank_code, resource_id)
);

CREATE TABLE transactions (
    bank_code            TEXT NOT NULL,
    account_resource_id  TEXT NOT NULL,
    transaction_id       TEXT NOT NULL,    -- stable, unique within the account
    entry_reference      TEXT,
    amount_minor         BIGINT NOT NULL,  -- always positive; the direction is credit_debit
    currency             TEXT NOT NULL,
    credit_debit         TEXT NOT NULL,    -- CRDT, DBIT
    status               TEXT NOT NULL,    -- BOOK, OTHR
    transaction_date     TEXT NOT NULL,
    booking_date         TEXT,
    value_date           TEXT,
    remittance           TEXT NOT NULL,    -- unstructured lines, newline-separated
    btc_domain           TEXT,
    btc_family           TEXT,
    btc_sub_family       TEXT,
    btc_code             TEXT,
    btc_issuer           TEXT,
    origin               TEXT NOT NULL,    -- ledger (the bank's data) or generated (sandbox)
    PRIMARY KEY (bank_code, account_resource_id, transaction_id),
    FOREIGN KEY (bank_code, account_resource_id) REFERENCES accounts (bank_code, resource_id)
);

CREATE INDEX transactions_by_date ON transactions (bank_code, account_resource_id, transaction_date);

-- Small facts the sandbox keeps about itself (which seed it applied, for which day the
-- generated transactions were written).
CREATE TABLE sandbox_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
