package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.contract.events.SessionStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The events a gateway publishes for a session: started, then a request and its result per statement (every
 * third one denied, without a result), then ended. Built with the contract's records, as the gateway builds them.
 */
public final class SessionScript {
    private SessionScript() {
    }

    /** @return {@code 2 + statements + (statements - denied)} events */
    public static List<SessionEvent> session(UUID id, Instant start, int statements) {
        List<SessionEvent> events = new ArrayList<>();
        Instant at = start;
        long seq = 1;
        events.add(new SessionEvent(id, seq++, at, new SessionStarted(
                new SessionStarted.Identity("agent-ci", "agent-ci", List.of("ci-readonly"), "agent-ci", "machine"),
                new SessionStarted.Connection("demo-dev", "postgres", Map.of("env", "dev")), "127.0.0.1", "gw-test")));
        int denials = 0;
        for (int i = 0; i < statements; i++) {
            at = at.plus(Duration.ofMillis(10));
            boolean allow = i % 3 != 2;
            String sql = allow ? "SELECT email FROM users WHERE id = " + i : "DELETE FROM users WHERE id = " + i;
            long requestSeq = seq;
            events.add(new SessionEvent(id, seq++, at, Request.postgres("query", SessionEvents.tree(List.of(Map.of(
                    "command", allow ? "SELECT" : "DELETE",
                    "normalized", allow ? "SELECT email FROM users WHERE id = ?" : "DELETE FROM users WHERE id = ?",
                    "tables", List.of(Map.of("name", "users", "access", allow ? "read" : "write"))))), sql,
                    new Request.Decision("d-" + i, allow, allow ? "pg/role-read" : "pg/role-write", "rev-1",
                            allow ? List.of() : List.of("role ci-readonly may only read"), false, 350, "opa"))));
            if (allow) {
                at = at.plus(Duration.ofMillis(2));
                events.add(new SessionEvent(id, seq++, at, Result.postgres(requestSeq, 1, 48, 900,
                        List.of(new Result.MaskedColumn("email", "users", "public", "email", "email", "mask/pii")),
                        List.of(), "SELECT 1", null)));
            } else {
                denials++;
            }
        }
        events.add(new SessionEvent(id, seq, at.plus(Duration.ofMillis(5)),
                new SessionEnded("client_terminate", Duration.between(start, at).toMillis(), statements, denials)));
        return events;
    }
}
