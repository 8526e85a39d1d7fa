-- A revision of each registration and each AIS consent, changed by every write of the row
-- (store/decisions.rs). A node remembers registrations and consents it has read, and trusts
-- what it remembers only while the revision read with the request's token pair is the same: a
-- change made by any node or command is seen by every node at its next request.
ALTER TABLE tpps ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE ais_consents ADD COLUMN revision TEXT NOT NULL DEFAULT '';

-- stetgate sets a new revision in each of its writes. This trigger covers the writes that do
-- not: those of a node of an older version during a rolling upgrade, or an operator's own SQL.
CREATE FUNCTION stetgate_new_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.revision = '') OR (TG_OP = 'UPDATE' AND NEW.revision = OLD.revision) THEN
        NEW.revision := md5(random()::text || clock_timestamp()::text);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tpps_new_revision BEFORE INSERT OR UPDATE ON tpps
    FOR EACH ROW EXECUTE FUNCTION stetgate_new_revision();
CREATE TRIGGER ais_consents_new_revision BEFORE INSERT OR UPDATE ON ais_consents
    FOR EACH ROW EXECUTE FUNCTION stetgate_new_revision();
