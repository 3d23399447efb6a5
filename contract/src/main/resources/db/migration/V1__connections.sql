-- Registered connections: the targets the gateway may open on behalf of an identity.
-- The password is sealed with AES-GCM (see SecretSealer); the key never lives in the database.
CREATE TABLE connections (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    type        text NOT NULL CHECK (type IN ('postgres')),
    host        text NOT NULL,
    port        integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    database    text NOT NULL,
    username    text NOT NULL,
    secret      bytea,
    tls_mode    text NOT NULL DEFAULT 'disable' CHECK (tls_mode IN ('disable', 'require', 'verify-full')),
    tls_ca_pem  text,
    tags        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every gateway replica caches connections; a change tells them all to drop the cached entry.
CREATE FUNCTION portcullis_notify_connection_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portcullis_connections', COALESCE(NEW.name, OLD.name));
    RETURN NULL;
END;
$$;

CREATE TRIGGER connections_changed
    AFTER INSERT OR UPDATE OR DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_connection_change();
