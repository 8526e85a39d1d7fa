-- stetgate schema, part 9: the PSU's journey in the bank's pages, once for every purpose.
-- Kept in step with ../sqlite/0009_psu.sql.

-- A journey (authorization, fallback online banking ...), keyed by the hash of its cookie's secret.
-- Authorization flows and online-banking sessions in progress are dropped: they live minutes.
DROP TABLE authorization_flows;
DROP TABLE fallback_sessions;

CREATE TABLE psu_journeys (
    journey_key           TEXT PRIMARY KEY,
    purpose               TEXT NOT NULL,     -- authorize, fallback
    bank_code             TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    stage                 TEXT NOT NULL,     -- identify, authenticate, choose, approved, refused, expired, closed
    psu_id                TEXT,
    psu_known             BIGINT NOT NULL,
    failures              BIGINT NOT NULL,
    challenge_method      TEXT,
    challenge_destination TEXT,
    challenge_expires_at  BIGINT,
    challenge_reference   TEXT,
    sca_at                BIGINT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    context               TEXT NOT NULL,     -- the purpose's own data (JSON)
    version               BIGINT NOT NULL
);
CREATE INDEX psu_journeys_by_expiry ON psu_journeys (expires_at);

-- Failed authentications of a PSU at a bank, whatever the journey: at the threshold, a lock.
CREATE TABLE psu_lockouts (
    bank_code    TEXT NOT NULL,
    psu_id       TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (bank_code, psu_id)
);
