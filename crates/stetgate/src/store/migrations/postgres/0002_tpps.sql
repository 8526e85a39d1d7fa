-- stetgate schema, part 2: registered TPPs (group-wide: one registration serves every bank code).
-- Kept in step with ../sqlite/0002_tpps.sql.

CREATE TABLE tpps (
    org_id          TEXT PRIMARY KEY,      -- PSD2 organizationIdentifier, the client_id
    client_name     TEXT NOT NULL,
    active          BIGINT NOT NULL,       -- 1 active, 0 deactivated
    qsealc_pem      TEXT NOT NULL,
    qsealc_sha256   TEXT NOT NULL,         -- lower-case hex of the DER's SHA-256
    qsealc_serial   TEXT NOT NULL,         -- lower-case hex, no leading zeros
    qsealc_issuer   TEXT NOT NULL,
    contacts        TEXT NOT NULL,         -- newline-separated
    created_at      BIGINT NOT NULL,       -- Unix seconds
    updated_at      BIGINT NOT NULL
);

CREATE TABLE tpp_redirect_uris (
    org_id    TEXT NOT NULL REFERENCES tpps (org_id),
    position  BIGINT NOT NULL,
    uri       TEXT NOT NULL,
    PRIMARY KEY (org_id, position)
);
