-- When the recorder wrote each event's index row: its S3 chunk was already stored, and the row commits with the
-- chain end moments later. stored_at - at is the event's end-to-end recording lag (dev-services/bench-recording).
-- Rows stored before this migration have NULL: when they were written is not known.
-- clock_timestamp(), not now(): the time of each insert, not of the transaction's start.
ALTER TABLE session_events ADD COLUMN stored_at timestamptz;
ALTER TABLE session_events ALTER COLUMN stored_at SET DEFAULT clock_timestamp();
