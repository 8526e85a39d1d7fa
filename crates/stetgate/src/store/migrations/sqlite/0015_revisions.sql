-- A revision of each registration and each AIS consent, changed by every write of the row
-- (store/decisions.rs). A node remembers registrations and consents it has read, and trusts
-- what it remembers only while the revision read with the request's token pair is the same: a
-- change made by any node or command is seen by every node at its next request.
ALTER TABLE tpps ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE ais_consents ADD COLUMN revision TEXT NOT NULL DEFAULT '';
