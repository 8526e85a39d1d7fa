-- stetgate schema, part 14: how recent an account's booked balance is, so that a statement
-- imported late (an older camt.053, a morning camt.052 after the evening's) never rewinds it.
-- 'YYYY-MM-DD.1' for an interim balance (ITBD), 'YYYY-MM-DD.2' for a closing one (CLBD).
-- Kept in step with ../sqlite/0014_balance_as_of.sql.

ALTER TABLE accounts ADD COLUMN balance_as_of TEXT;
