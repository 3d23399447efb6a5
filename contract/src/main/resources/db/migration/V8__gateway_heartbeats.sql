-- What each gateway replica reports of itself every few seconds (gateway Heartbeat), for the admin API: the live
-- sessions it holds (GET /sessions/live) and the state of its policy engine (GET /policy). A replica whose beat is
-- older than a few intervals is gone: the admin API shows it as stale and its sessions as no longer live.
CREATE TABLE gateway_heartbeats (
    replica           text PRIMARY KEY,
    started_at        timestamptz NOT NULL,
    beat_at           timestamptz NOT NULL,
    -- the beat interval in seconds, so a reader knows when a beat is overdue
    interval_s        integer NOT NULL CHECK (interval_s > 0),
    -- [{"id", "identity_subject", "identity_name", "connection", "protocol", "source_ip", "started_at"}], capped by the gateway
    sessions          jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(sessions) = 'array'),
    -- how many live sessions it holds (sessions may be capped)
    session_count     integer NOT NULL DEFAULT 0,
    -- the OPA bundle revision in force (null: unknown), since when, and why it is unknown
    policy_revision   text,
    policy_loaded_at  timestamptz,
    policy_problem    text,
    -- decisions since the replica started, by outcome: {"allow": n, "deny": n, "approval": n, "unavailable": n}
    decisions         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(decisions) = 'object')
);
