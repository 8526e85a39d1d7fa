-- stetgate schema, part 10: a token pair stands for a PSU, or for the TPP itself (client
-- credentials, no psu_id). Kept in step with ../sqlite/0010_token_subject.sql.
ALTER TABLE token_pairs ALTER COLUMN psu_id DROP NOT NULL;
