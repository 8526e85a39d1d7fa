-- A registration's redirect URIs and an AIS consent's accounts are part of it: a write of one of
-- those rows gives its registration or consent a new revision too, so a node that remembers the
-- registration or consent (store/decisions.rs) reads it again, whoever wrote (stetgate's own
-- writes already set a new revision on the parent; an operator's SQL may touch the child alone).
CREATE TRIGGER tpp_redirect_uris_revise_on_insert AFTER INSERT ON tpp_redirect_uris
BEGIN
    UPDATE tpps SET revision = lower(hex(randomblob(16))) WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER tpp_redirect_uris_revise_on_update AFTER UPDATE ON tpp_redirect_uris
BEGIN
    UPDATE tpps SET revision = lower(hex(randomblob(16))) WHERE org_id IN (OLD.org_id, NEW.org_id);
END;
CREATE TRIGGER tpp_redirect_uris_revise_on_delete AFTER DELETE ON tpp_redirect_uris
BEGIN
    UPDATE tpps SET revision = lower(hex(randomblob(16))) WHERE org_id = OLD.org_id;
END;
CREATE TRIGGER ais_consent_accounts_revise_on_insert AFTER INSERT ON ais_consent_accounts
BEGIN
    UPDATE ais_consents SET revision = lower(hex(randomblob(16)))
    WHERE bank_code = NEW.bank_code AND psu_id = NEW.psu_id AND client_id = NEW.client_id;
END;
CREATE TRIGGER ais_consent_accounts_revise_on_update AFTER UPDATE ON ais_consent_accounts
BEGIN
    UPDATE ais_consents SET revision = lower(hex(randomblob(16)))
    WHERE (bank_code = OLD.bank_code AND psu_id = OLD.psu_id AND client_id = OLD.client_id)
       OR (bank_code = NEW.bank_code AND psu_id = NEW.psu_id AND client_id = NEW.client_id);
END;
CREATE TRIGGER ais_consent_accounts_revise_on_delete AFTER DELETE ON ais_consent_accounts
BEGIN
    UPDATE ais_consents SET revision = lower(hex(randomblob(16)))
    WHERE bank_code = OLD.bank_code AND psu_id = OLD.psu_id AND client_id = OLD.client_id;
END;
