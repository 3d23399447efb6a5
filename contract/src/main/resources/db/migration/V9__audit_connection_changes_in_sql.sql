-- GET /audit lists newest first, in pages keyed by (at, id).
CREATE INDEX admin_audit_at_id ON admin_audit (at DESC, id DESC);

-- A connection changed in SQL rather than through the admin API (dev-services/bench registers its connection so, and
-- so may an operator in psql) is audited too: one admin_audit row per changed row, in the same transaction, naming
-- the database role that made it (actor 'db:<role>') and, as its name, what the change says it is from
-- (set_config('portcullis.change_by', 'dev-services/bench', true)), else the role. The admin API audits its own
-- changes with the caller's identity, and says so for its transaction (set_config('portcullis.audited_by_api', 'on',
-- true)), so that they are not audited twice. Never the secret: only whether one is stored, and whether it changed.
-- A role that may write connections may also write the audit: this makes the ordinary SQL path visible, it is not a
-- barrier against such a role.
CREATE FUNCTION portcullis_connection_fields(c connections) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT (to_jsonb(c) - 'secret' - 'tls_ca_pem' - 'created_at' - 'updated_at')
        || jsonb_build_object('has_secret', c.secret IS NOT NULL)
$$;

CREATE FUNCTION portcullis_audit_connection_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    details jsonb := jsonb_build_object('outcome', 'changed', 'via', 'sql');
BEGIN
    IF current_setting('portcullis.audited_by_api', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        details := details || jsonb_build_object('before', portcullis_connection_fields(OLD));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        details := details || jsonb_build_object('after', portcullis_connection_fields(NEW));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        details := details || jsonb_build_object('secret_changed', OLD.secret IS DISTINCT FROM NEW.secret);
    END IF;
    INSERT INTO admin_audit (actor_subject, actor_name, action, target, details)
    VALUES ('db:' || session_user,
            coalesce(nullif(current_setting('portcullis.change_by', true), ''), session_user),
            'connection.' || CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
            'connection/' || coalesce(NEW.name, OLD.name),
            details);
    RETURN NULL;
END;
$$;

CREATE TRIGGER connections_audited
    AFTER INSERT OR UPDATE OR DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION portcullis_audit_connection_change();
