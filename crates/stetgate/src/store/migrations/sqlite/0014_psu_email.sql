-- stetgate schema, part 14: a PSU's e-mail address, where the bank's messaging gateway may send
-- one-time codes. Kept in step with ../postgres/0014_psu_email.sql.

ALTER TABLE psus ADD COLUMN email TEXT;
