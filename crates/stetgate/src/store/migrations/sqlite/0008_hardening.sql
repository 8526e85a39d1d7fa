-- stetgate schema, part 8: honest statistics, operator control over TPPs, PKCE.
-- Kept in step with ../postgres/0008_hardening.sql.

-- Request records older than two hours, rolled up per bank, UTC hour and family (one row each:
-- the statistics endpoint reads a quarter in a few thousand rows instead of millions).
CREATE TABLE request_stats_hourly (
    bank_code      TEXT NOT NULL,
    hour           BIGINT NOT NULL,   -- Unix ms of the hour's start
    family         TEXT NOT NULL,
    requests       BIGINT NOT NULL,
    server_errors  BIGINT NOT NULL,
    client_errors  BIGINT NOT NULL,
    planned        BIGINT NOT NULL,
    latency_sum_us BIGINT NOT NULL,
    histogram      TEXT NOT NULL,
    PRIMARY KEY (bank_code, hour, family)
);

-- Minutes (already rolled up) in which the interface answered at least five requests, all of
-- them with a server error: unplanned downtime.
CREATE TABLE failed_minutes (
    bank_code TEXT NOT NULL,
    minute    BIGINT NOT NULL,
    PRIMARY KEY (bank_code, minute)
);

-- Each node's life: an interval in which no node was alive is downtime unless planned.
CREATE TABLE node_heartbeats (
    node_id    TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX node_heartbeats_by_time ON node_heartbeats (last_seen);

-- Short exclusive leases for work one node at a time does (rolling up the records).
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);

-- TPPs: a suspension only the bank can lift, and the organisation name of the QWAC the TPP
-- registered with (shown to the PSU beside the name the TPP chose).
ALTER TABLE tpps ADD COLUMN suspended_at BIGINT;
ALTER TABLE tpps ADD COLUMN suspension_reason TEXT;
ALTER TABLE tpps ADD COLUMN qwac_organization TEXT;

-- PKCE (RFC 7636): the S256 challenge of an authorization, checked when its code is redeemed.
ALTER TABLE authorization_flows ADD COLUMN code_challenge TEXT;
ALTER TABLE authorization_codes ADD COLUMN code_challenge TEXT;
