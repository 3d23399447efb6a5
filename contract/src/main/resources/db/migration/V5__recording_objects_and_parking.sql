-- Recordings in fewer, larger S3 objects (issue #12), one dead-letter store for what cannot be stored, and a queue
-- that makes retention's S3 deletes retry.

-- One row per run of a session's events that one consumer batch stored: where its gzip member lives. A batch writes
-- ONE object, recordings/<yyyy>/<mm>/<dd>/<random>.jsonl.gz, in which each session's run is a gzip member of its own
-- (a multi-member gzip is still one valid .jsonl.gz); a reader fetches a run with an S3 Range GET of
-- [byte_offset, byte_offset + byte_length). session_events.chunk_seq is the run's first_seq.
CREATE TABLE session_chunks (
    session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_seq    bigint NOT NULL CHECK (first_seq >= 1),
    last_seq     bigint NOT NULL CHECK (last_seq >= first_seq),
    object_key   text NOT NULL,
    byte_offset  bigint NOT NULL DEFAULT 0 CHECK (byte_offset >= 0),
    -- NULL: the whole object (recordings stored before V5, one object per chunk)
    byte_length  bigint CHECK (byte_length > 0),
    PRIMARY KEY (session_id, first_seq)
);
-- retention asks whether any chunk still points at an object
CREATE INDEX session_chunks_object_key ON session_chunks (object_key);

-- The recordings stored before V5 keep their objects (<object_prefix><chunk_seq>.jsonl.gz, one per chunk): each
-- chunk gets its row, so readers and retention have one path for both layouts.
INSERT INTO session_chunks (session_id, first_seq, last_seq, object_key, byte_offset, byte_length)
SELECT e.session_id, e.chunk_seq, max(e.seq), s.object_prefix || e.chunk_seq || '.jsonl.gz', 0, NULL
FROM session_events e JOIN sessions s ON s.id = e.session_id
GROUP BY e.session_id, e.chunk_seq, s.object_prefix;

-- New sessions have no per-session prefix any more: their chunks name their objects.
ALTER TABLE sessions ALTER COLUMN object_prefix DROP NOT NULL;

-- Objects to delete from S3: retention queues an object once no chunk points at it, in the transaction that deletes
-- the rows, and deletes the queued objects afterwards; a failed S3 delete stays queued and is retried. The deleter
-- checks again that nothing points at an object before it deletes it.
CREATE TABLE recording_deletions (
    object_key  text PRIMARY KEY,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);

-- The dead-letter store: events the recorder could not store, kept as received (canonical JSON Lines, gzip) under
-- object_key (parked/<yyyy>/<mm>/<dd>/<id>.jsonl.gz), never dropped.
--   contract violation: lines that are not events of contract v1 (seq and session when the line shows them)
--   store failed:       a session's run that PostgreSQL or S3 refused for its content, after bounded retries
--   quarantined:        later events of a session with a run parked before, so that its chain stays linear
-- A replay request (admin API) sets state replay_requested; the recorder stores the run through its normal path
-- and sets replayed, or keeps it parked with the new error.
CREATE TABLE parked_runs (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parked_at            timestamptz NOT NULL DEFAULT now(),
    reason               text NOT NULL CHECK (reason IN ('contract violation', 'store failed', 'quarantined')),
    error                text NOT NULL,
    object_key           text NOT NULL,
    topic                text NOT NULL,
    kafka_partition      integer NOT NULL,
    first_offset         bigint NOT NULL,
    last_offset          bigint NOT NULL CHECK (last_offset >= first_offset),
    session_id           uuid,
    first_seq            bigint,
    last_seq             bigint,
    events               integer NOT NULL CHECK (events >= 1),
    state                text NOT NULL DEFAULT 'parked' CHECK (state IN ('parked', 'replay_requested', 'replayed')),
    replay_requested_at  timestamptz,
    replay_requested_by  text,
    replay_attempts      integer NOT NULL DEFAULT 0,
    replayed_at          timestamptz
);
-- the recorder asks for a batch's sessions whether any is quarantined, and the replayer for what to replay
CREATE INDEX parked_runs_open_by_session ON parked_runs (session_id, id) WHERE state <> 'replayed';
CREATE INDEX parked_runs_state ON parked_runs (state, id) WHERE state <> 'replayed';
