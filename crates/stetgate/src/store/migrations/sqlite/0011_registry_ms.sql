-- stetgate schema, part 11: every instant in the database is Unix milliseconds. The registry kept
-- its registration times in seconds; they become milliseconds like every other table's.
-- Kept in step with ../postgres/0011_registry_ms.sql.
UPDATE tpps SET created_at = created_at * 1000, updated_at = updated_at * 1000;
