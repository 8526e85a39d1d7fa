-- The names of an operation's counterparties (ISO 20022 RltdPties/Cdtr/Nm and Dbtr/Nm of a
-- statement entry, the payee of a payment the bank executed): STET's relatedParties from 1.4.2 on.
ALTER TABLE transactions ADD COLUMN creditor_name TEXT;
ALTER TABLE transactions ADD COLUMN debtor_name TEXT;
