-- A revision of each registration and each AIS consent, changed by every write of the row
-- (store/decisions.rs). A node remembers registrations and consents it has read, and trusts
-- what it remembers only while the revision read with the request's token pair is the same: a
-- change made by any node or command is seen by every node at its next request.
ALTER TABLE tpps ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE ais_consents ADD COLUMN revision TEXT NOT NULL DEFAULT '';

-- stetgate sets a new revision in each of its writes. These triggers cover the writes that do
-- not: those of a node of an older version during a rolling upgrade, or an operator's own SQL.
-- (SQLite's triggers do not fire recursively unless asked to.)
CREATE TRIGGER tpps_new_revision_on_insert AFTER INSERT ON tpps WHEN NEW.revision = ''
BEGIN
    UPDATE tpps SET revision = lower(hex(randomblob(16))) WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER tpps_new_revision_on_update AFTER UPDATE ON tpps WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE tpps SET revision = lower(hex(randomblob(16))) WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER ais_consents_new_revision_on_insert AFTER INSERT ON ais_consents WHEN NEW.revision = ''
BEGIN
    UPDATE ais_consents SET revision = lower(hex(randomblob(16)))
    WHERE bank_code = NEW.bank_code AND psu_id = NEW.psu_id AND client_id = NEW.client_id;
END;
CREATE TRIGGER ais_consents_new_revision_on_update AFTER UPDATE ON ais_consents WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE ais_consents SET revision = lower(hex(randomblob(16)))
    WHERE bank_code = NEW.bank_code AND psu_id = NEW.psu_id AND client_id = NEW.client_id;
END;
