-- session_events is the recorder's hot path: one row per event, 30,000 a second (issue #12). Its foreign key to
-- sessions cost PostgreSQL a lookup of the session row for every event row (about a third of an event's insert) to
-- prove what the recorder guarantees by construction: it inserts a session's row, moves its chain end and inserts
-- the session's event rows in one transaction. What the cascade did, retention now does in its deleting statement.
ALTER TABLE session_events DROP CONSTRAINT session_events_session_id_fkey;
