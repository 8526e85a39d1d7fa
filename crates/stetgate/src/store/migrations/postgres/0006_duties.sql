-- stetgate schema, part 6: the regulatory duties (RTS art. 32 and 33).
-- Kept in step with ../sqlite/0006_duties.sql.

-- Fallback (contingency access): the JWTs issued to TPPs, each usable once.
CREATE TABLE fallback_grants (
    jti        TEXT PRIMARY KEY,
    bank_code  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- A PSU's online-banking session opened by a fallback JWT (cookie and CSRF token hashed).
CREATE TABLE fallback_sessions (
    session_hash TEXT PRIMARY KEY,
    csrf_hash    TEXT NOT NULL,
    jti          TEXT NOT NULL,
    bank_code    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    stage        TEXT NOT NULL,   -- identify, authenticate, signed-in, ended
    psu_id       TEXT,
    failures     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- Every use of the fallback, accepted or refused, for the abuse reports.
CREATE TABLE fallback_events (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    bank_code  TEXT NOT NULL,
    client_id  TEXT,
    jti        TEXT,
    event      TEXT NOT NULL,     -- token, login, sign-in
    outcome    TEXT NOT NULL,     -- accepted, refused
    detail     TEXT NOT NULL
);
CREATE INDEX fallback_events_by_bank ON fallback_events (bank_code, at);

-- Unavailability of the dedicated interface declared by the operator.
CREATE TABLE interface_outages (
    id         TEXT PRIMARY KEY,
    bank_code  TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT,
    reason     TEXT NOT NULL
);
CREATE INDEX interface_outages_by_bank ON interface_outages (bank_code, started_at);

-- Request records, aggregated per node, bank, minute and endpoint family; every node appends
-- its own rows, the statistics add them up.
CREATE TABLE request_stats (
    id             TEXT PRIMARY KEY,
    bank_code      TEXT NOT NULL,
    minute         BIGINT NOT NULL,   -- Unix ms of the minute's start
    family         TEXT NOT NULL,     -- authorization, ais, funds
    requests       BIGINT NOT NULL,
    server_errors  BIGINT NOT NULL,   -- 5xx, planned maintenance excluded
    client_errors  BIGINT NOT NULL,   -- 4xx
    planned        BIGINT NOT NULL,   -- answered 503 during planned maintenance
    latency_sum_us BIGINT NOT NULL,
    histogram      TEXT NOT NULL      -- "bucket:count,..." (see statistics::Histogram)
);
CREATE INDEX request_stats_by_bank ON request_stats (bank_code, minute);
