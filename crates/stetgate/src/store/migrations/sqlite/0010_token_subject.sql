-- stetgate schema, part 10: a token pair stands for a PSU, or for the TPP itself (client
-- credentials, no psu_id). Kept in step with ../postgres/0010_token_subject.sql.
-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt with the same rows.
CREATE TABLE token_pairs_new (
    pair_id             TEXT PRIMARY KEY,
    bank_code           TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    psu_id              TEXT,
    scope               TEXT NOT NULL,
    access_hash         TEXT NOT NULL UNIQUE,
    access_expires_at   BIGINT NOT NULL,
    refresh_hash        TEXT NOT NULL UNIQUE,
    refresh_expires_at  BIGINT NOT NULL,
    sca_at              BIGINT NOT NULL,
    revoked_at          BIGINT,
    created_at          BIGINT NOT NULL
);
INSERT INTO token_pairs_new SELECT pair_id, bank_code, client_id, psu_id, scope, access_hash, access_expires_at,
    refresh_hash, refresh_expires_at, sca_at, revoked_at, created_at FROM token_pairs;
DROP TABLE token_pairs;
ALTER TABLE token_pairs_new RENAME TO token_pairs;
CREATE INDEX token_pairs_by_grant ON token_pairs (bank_code, psu_id, client_id);
