-- Just-in-time approval: requests held until a person approves them, the votes on them, the time-boxed grants an
-- approval may create, and an outbox of webhook notifications. The gateway holding the client creates a request
-- and waits; admin-api replicas take the votes; every replica learns of each change through NOTIFY.
CREATE TABLE approval_requests (
    id                uuid PRIMARY KEY,
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'withdrawn', 'abandoned')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    decided_at        timestamptz,
    -- why it ended, in words for the client: the denier's comment, "it expired", "the client cancelled"
    outcome           text,
    session_id        uuid NOT NULL,
    -- the held request's seq in the session's recording
    request_seq       bigint NOT NULL,
    -- the gateway replica that holds the waiting client (SessionStarted.gateway)
    gateway           text NOT NULL,
    identity_subject  text NOT NULL,
    identity_name     text,
    identity_groups   jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(identity_groups) = 'array'),
    identity_kind     text,
    connection_name   text NOT NULL,
    connection_type   text NOT NULL,
    connection_tags   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(connection_tags) = 'object'),
    protocol          text NOT NULL,
    -- what it does in one line (for PostgreSQL the normalised statements), and the text as sent (capped)
    summary           text NOT NULL,
    request_text      text,
    -- the decision input's request part, as the policy saw it
    request           jsonb NOT NULL,
    policy            text NOT NULL,
    reasons           jsonb NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    approver_groups   jsonb NOT NULL CHECK (jsonb_typeof(approver_groups) = 'array'),
    min_approvals     integer NOT NULL CHECK (min_approvals >= 1),
    -- approving also grants the requester this scope on this connection for grant_ttl_s seconds
    grant_scope       text,
    grant_ttl_s       integer CHECK (grant_ttl_s > 0),
    CHECK ((grant_scope IS NULL) = (grant_ttl_s IS NULL))
);

CREATE INDEX approval_requests_pending ON approval_requests (created_at) WHERE state = 'pending';
CREATE INDEX approval_requests_session ON approval_requests (session_id);

-- One vote per approver and request: min_approvals counts distinct approvers by construction.
CREATE TABLE approval_votes (
    request_id        uuid NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
    approver_subject  text NOT NULL,
    approver_name     text,
    verdict           text NOT NULL CHECK (verdict IN ('approve', 'deny')),
    comment           text,
    at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, approver_subject)
);

-- Time-boxed grants: the policy sees the active ones of (identity, connection) in every decision input.
CREATE TABLE grants (
    id                   uuid PRIMARY KEY,
    identity_subject     text NOT NULL,
    connection_name      text NOT NULL,
    scope                text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,
    approval_request_id  uuid REFERENCES approval_requests (id) ON DELETE SET NULL,
    revoked_at           timestamptz,
    revoked_by           text
);

CREATE INDEX grants_active ON grants (identity_subject, connection_name) WHERE revoked_at IS NULL;

-- Webhook notifications, written in the transaction that changes the request (an outbox): a receiver that is down
-- delays them; none is lost, and each carries a stable id a receiver can deduplicate on.
CREATE TABLE approval_notifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id       uuid NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
    event            text NOT NULL CHECK (event IN ('created', 'vote', 'approved', 'denied', 'expired', 'withdrawn', 'abandoned')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text
);

CREATE INDEX approval_notifications_due ON approval_notifications (next_attempt_at) WHERE delivered_at IS NULL;

-- Every replica learns of a change at once: the gateway that holds a request releases it (and records the votes in
-- the session's recording); a new or revoked grant takes effect within a second.
-- One branch per table: PL/pgSQL types NEW as the row of the table that fired, so an expression naming a column
-- of the other table (even in an arm of CASE that is never taken) fails; each IF branch is prepared only when taken.
CREATE FUNCTION portcullis_notify_approval() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'approval_votes' THEN
        PERFORM pg_notify('portcullis_approvals', NEW.request_id::text);
    ELSE
        PERFORM pg_notify('portcullis_approvals', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER approval_requests_changed
    AFTER INSERT OR UPDATE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_approval();

CREATE TRIGGER approval_votes_changed
    AFTER INSERT ON approval_votes
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_approval();

CREATE FUNCTION portcullis_notify_grant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portcullis_grants', COALESCE(NEW.identity_subject, OLD.identity_subject));
    RETURN NULL;
END;
$$;

CREATE TRIGGER grants_changed
    AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION portcullis_notify_grant();
