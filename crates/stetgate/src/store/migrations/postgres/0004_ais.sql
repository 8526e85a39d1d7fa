-- stetgate schema, part 4: account information consents and the batch-access quota.
-- Kept in step with ../sqlite/0004_ais.sql.

-- A TPP's consent for a PSU (PUT /consents), replaced as a whole by each new one.
CREATE TABLE ais_consents (
    bank_code     TEXT NOT NULL,
    psu_id        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    psu_identity  BIGINT NOT NULL,   -- 1 when the PSU's identity may be read
    granted_at    BIGINT NOT NULL,   -- Unix ms
    PRIMARY KEY (bank_code, psu_id, client_id)
);

CREATE TABLE ais_consent_accounts (
    bank_code    TEXT NOT NULL,
    psu_id       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    access       TEXT NOT NULL,      -- balances, transactions, overdrafts
    PRIMARY KEY (bank_code, psu_id, client_id, resource_id, access)
);

-- Calls made without the PSU connected, per Paris calendar day (4 allowed).
CREATE TABLE batch_quota (
    client_id  TEXT NOT NULL,
    bank_code  TEXT NOT NULL,
    psu_id     TEXT NOT NULL,
    target     TEXT NOT NULL,        -- an account resource id, or * for PSU-level calls
    method     TEXT NOT NULL,        -- accounts, balances, transactions, overdrafts, identity ...
    day        TEXT NOT NULL,        -- YYYY-MM-DD in Europe/Paris
    calls      BIGINT NOT NULL,
    PRIMARY KEY (client_id, bank_code, psu_id, target, method, day)
);
