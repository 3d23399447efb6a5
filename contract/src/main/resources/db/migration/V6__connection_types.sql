-- A connection of any protocol is a row: `type` names the gateway engine that serves it (postgres today; kubernetes
-- and ssh next), and `settings` holds what only that type needs (a Kubernetes API server's CA, an SSH host key, ...).
-- The admin API validates each type's settings; the database keeps only the shape.
ALTER TABLE connections DROP CONSTRAINT connections_type_check;
ALTER TABLE connections ADD CONSTRAINT connections_type_check CHECK (type ~ '^[a-z][a-z0-9]{1,31}$');
ALTER TABLE connections ALTER COLUMN database DROP NOT NULL;
ALTER TABLE connections ALTER COLUMN username DROP NOT NULL;
ALTER TABLE connections ADD CONSTRAINT connections_postgres_fields
    CHECK (type <> 'postgres' OR (database IS NOT NULL AND username IS NOT NULL));
ALTER TABLE connections ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(settings) = 'object');
