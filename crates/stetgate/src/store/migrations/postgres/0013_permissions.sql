-- stetgate schema, part 13: the PSU's permission dashboard.
-- Kept in step with ../sqlite/0013_permissions.sql.

-- When a token pair was last used (written at most once a minute per pair).
ALTER TABLE token_pairs ADD COLUMN last_used_at BIGINT;

-- Every access a PSU (or the bank's support staff for them) withdrew.
CREATE TABLE access_withdrawals (
    bank_code      TEXT NOT NULL,
    psu_id         TEXT NOT NULL,
    client_id      TEXT NOT NULL,     -- the TPP
    role           TEXT NOT NULL,     -- aisp, cbpii, pisp
    withdrawn_by   TEXT NOT NULL,     -- psu, or support (stetgate psu access revoke)
    withdrawn_at   BIGINT NOT NULL,
    pairs_revoked  BIGINT NOT NULL
);

CREATE INDEX access_withdrawals_by_psu ON access_withdrawals (bank_code, psu_id, withdrawn_at);
