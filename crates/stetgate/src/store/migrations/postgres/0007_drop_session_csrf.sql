-- stetgate schema, part 7: the online-banking session's CSRF token is derived from its cookie
-- secret, so its hash is not kept. Kept in step with ../sqlite/0007_drop_session_csrf.sql.

ALTER TABLE fallback_sessions DROP COLUMN csrf_hash;
