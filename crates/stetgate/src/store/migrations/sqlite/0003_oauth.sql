-- stetgate schema, part 3: the OAuth2 authorization server (redirect SCA).
-- Kept in step with ../postgres/0003_oauth.sql. Secrets (flow ids, CSRF tokens, codes, tokens) are
-- stored as the lower-case hex SHA-256 of their value, never in clear. Instants are Unix ms.

-- Where the one-time code is "sent" (shown masked on the authentication page).
ALTER TABLE psus ADD COLUMN phone TEXT;

-- A PSU's authorization in progress, bound to their browser by a cookie.
CREATE TABLE authorization_flows (
    flow_hash     TEXT PRIMARY KEY,
    csrf_hash     TEXT NOT NULL,
    bank_code     TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    state         TEXT,
    stage         TEXT NOT NULL,     -- identify, authenticate, consent, done
    psu_id        TEXT,
    failures      BIGINT NOT NULL,
    sca_at        BIGINT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash     TEXT PRIMARY KEY,
    bank_code     TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    psu_id        TEXT NOT NULL,
    scope         TEXT NOT NULL,
    sca_at        BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    pair_id       TEXT
);

-- An access token and its refresh token, issued together, revoked together.
CREATE TABLE token_pairs (
    pair_id             TEXT PRIMARY KEY,
    bank_code           TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    psu_id              TEXT NOT NULL,
    scope               TEXT NOT NULL,     -- space-separated
    access_hash         TEXT NOT NULL UNIQUE,
    access_expires_at   BIGINT NOT NULL,
    refresh_hash        TEXT NOT NULL UNIQUE,
    refresh_expires_at  BIGINT NOT NULL,
    sca_at              BIGINT NOT NULL,   -- the PSU's strong authentication behind this pair
    revoked_at          BIGINT,
    created_at          BIGINT NOT NULL
);

CREATE INDEX token_pairs_by_grant ON token_pairs (bank_code, psu_id, client_id);

-- The accounts a PSU allowed a card issuer (CBPII) to query for funds, chosen during authorization.
CREATE TABLE funds_consents (
    bank_code    TEXT NOT NULL,
    psu_id       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (bank_code, psu_id, client_id, resource_id)
);
