-- A registration's redirect URIs and an AIS consent's accounts are part of it: a write of one of
-- those rows gives its registration or consent a new revision too, so a node that remembers the
-- registration or consent (store/decisions.rs) reads it again, whoever wrote (stetgate's own
-- writes already set a new revision on the parent; an operator's SQL may touch the child alone).
CREATE FUNCTION stetgate_revise_registration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE tpps SET revision = md5(random()::text || clock_timestamp()::text) WHERE org_id = OLD.org_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE tpps SET revision = md5(random()::text || clock_timestamp()::text) WHERE org_id = NEW.org_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER tpp_redirect_uris_revise AFTER INSERT OR UPDATE OR DELETE ON tpp_redirect_uris
    FOR EACH ROW EXECUTE FUNCTION stetgate_revise_registration();

CREATE FUNCTION stetgate_revise_ais_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE ais_consents SET revision = md5(random()::text || clock_timestamp()::text)
        WHERE bank_code = OLD.bank_code AND psu_id = OLD.psu_id AND client_id = OLD.client_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE ais_consents SET revision = md5(random()::text || clock_timestamp()::text)
        WHERE bank_code = NEW.bank_code AND psu_id = NEW.psu_id AND client_id = NEW.client_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ais_consent_accounts_revise AFTER INSERT OR UPDATE OR DELETE ON ais_consent_accounts
    FOR EACH ROW EXECUTE FUNCTION stetgate_revise_ais_consent();
