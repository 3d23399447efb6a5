-- Session recordings, written by the recorder from the session-event stream (contract/EVENTS.md).
-- The full events live in S3 as gzip'd JSONL chunks under object_prefix; PostgreSQL holds the index and the
-- hash chain. A row is written only after the S3 chunk that holds its events is stored.
CREATE TABLE sessions (
    id                uuid PRIMARY KEY,
    -- recordings/<yyyy>/<mm>/<id>/ : every chunk of the session is <object_prefix><first seq>.jsonl.gz
    object_prefix     text NOT NULL,
    started_at        timestamptz,
    ended_at          timestamptz,
    end_reason        text,
    identity_subject  text,
    identity_name     text,
    connection_name   text,
    connection_type   text,
    source_ip         text,
    gateway           text,
    requests          bigint NOT NULL DEFAULT 0,
    denials           bigint NOT NULL DEFAULT 0,
    -- the end of the hash chain: the highest stored seq and h_<last_seq> (32 zero bytes before any event)
    last_seq          bigint NOT NULL CHECK (last_seq >= 0),
    last_hash         bytea NOT NULL CHECK (octet_length(last_hash) = 32),
    last_event_at     timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);

-- Recent sessions first; retention finds the sessions that went quiet before the cut-off.
CREATE INDEX sessions_started_at ON sessions (started_at DESC NULLS LAST);
CREATE INDEX sessions_last_event_at ON sessions (last_event_at);

-- One row per event. (session_id, seq) is the identity of an event, so a redelivered event is not stored twice.
CREATE TABLE session_events (
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         bigint NOT NULL CHECK (seq >= 1),
    at          timestamptz NOT NULL,
    type        text NOT NULL,
    -- the chunk that holds this event: <sessions.object_prefix><chunk_seq>.jsonl.gz
    chunk_seq   bigint NOT NULL CHECK (chunk_seq BETWEEN 1 AND seq),
    -- h_seq = SHA-256(h_(seq-1) || canonical JSON of the event)
    hash        bytea NOT NULL CHECK (octet_length(hash) = 32),
    -- index fields, copied from the event: request → allow and policy; result → rows
    allow       boolean,
    policy      text,
    rows        bigint,
    PRIMARY KEY (session_id, seq)
);
