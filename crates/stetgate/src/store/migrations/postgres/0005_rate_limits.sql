-- stetgate schema, part 5: request counters for per-bank rate limits (funds confirmation).
-- Kept in step with ../sqlite/0005_rate_limits.sql.

CREATE TABLE rate_counters (
    client_id  TEXT NOT NULL,
    bank_code  TEXT NOT NULL,
    resource   TEXT NOT NULL,   -- what is limited, e.g. funds-confirmations
    minute     TEXT NOT NULL,   -- YYYY-MM-DDTHH:MM (UTC)
    calls      BIGINT NOT NULL,
    PRIMARY KEY (client_id, bank_code, resource, minute)
);
