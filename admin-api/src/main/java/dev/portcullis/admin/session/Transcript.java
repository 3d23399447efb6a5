package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.contract.events.Approval;
import dev.portcullis.contract.events.EventBody;
import dev.portcullis.contract.events.InvalidEventException;
import dev.portcullis.contract.events.Output;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.contract.events.SessionStarted;
import java.util.Base64;
import java.util.stream.Collectors;

/**
 * A recording as a person reads it, one line per event: time, who, what was run, the decision and why, what came
 * back and what was masked. The SQL is shown as executed: this is the auditor's view.
 */
final class Transcript {
    private Transcript() {
    }

    static String render(SessionEntity session, Replay replay) {
        String who = session.identityName != null ? session.identityName
                : session.identitySubject != null ? session.identitySubject : "(unknown identity)";
        StringBuilder out = new StringBuilder();
        out.append("# session ").append(session.id).append(" on ").append(session.connectionName).append('\n');
        for (ObjectNode tree : replay.events()) {
            out.append(tree.path("at").asText()).append("  ").append(String.format("%6d", tree.path("seq").asLong()))
                    .append("  ").append(who).append("  ").append(describe(tree)).append('\n');
        }
        if (replay.nextAfterSeq() != null) {
            out.append("# more: ?after_seq=").append(replay.nextAfterSeq()).append('\n');
        }
        return out.toString();
    }

    private static String describe(ObjectNode tree) {
        SessionEvent event;
        try {
            event = SessionEvents.read(SessionEvents.canonical(tree));
        } catch (InvalidEventException e) {
            return tree.path("type").asText() + " (not shown: " + e.getMessage() + ")";
        }
        EventBody body = event.body();
        if (body instanceof SessionStarted s) {
            return "session started: " + s.identity().subject() + " (" + s.identity().kind() + ", groups "
                    + String.join(",", s.identity().groups()) + ") on " + s.connection().name() + " (" + s.connection().type()
                    + ") from " + s.sourceIp() + " via gateway " + s.gateway();
        }
        if (body instanceof Request r) {
            return (r.decision().allow() ? "ALLOW" : r.decision().approvalRequired() ? "HOLD " : "DENY ")
                    + " [" + r.decision().policy() + "] " + (r.text() != null ? oneLine(r.text()) : r.protocol() + " " + r.message()
                            + (r.details() == null ? "" : " " + oneLine(r.details().toString())))
                    + (r.decision().reasons().isEmpty() ? "" : "  -- " + String.join("; ", r.decision().reasons()));
        }
        if (body instanceof Result r) {
            return "result of #" + r.requestSeq() + ": " + outcome(r)
                    + (r.masked().isEmpty() ? "" : ", masked " + r.masked().stream()
                            .map(m -> m.column() + " (" + m.method() + ", " + m.rule() + ")").collect(Collectors.joining(", ")))
                    + (r.detectors().isEmpty() ? "" : ", detected " + String.join(",", r.detectors()));
        }
        if (body instanceof Output o) {
            return "output of #" + o.requestSeq() + ": " + o.stream() + ", " + Base64.getDecoder().decode(o.data()).length + " bytes";
        }
        if (body instanceof Approval a) {
            return "approval " + a.requestId() + ": " + a.state() + (a.approver() == null ? "" : " by " + a.approver());
        }
        if (body instanceof SessionEnded e) {
            return "session ended: " + e.reason() + " after " + e.durationMs() + " ms, " + e.requests() + " requests, "
                    + e.denials() + " denied";
        }
        return event.type();
    }

    /** A result's outcome: PostgreSQL's in its own words, another protocol's details as they are. */
    private static String outcome(Result r) {
        JsonNode d = r.details() == null ? NullNode.getInstance() : r.details();
        if ("postgres".equals(r.protocol())) {
            return r.ok() ? d.path("command_tag").asText() + ", " + d.path("rows").asLong() + " rows"
                    : "failed, SQLSTATE " + d.path("sqlstate").asText();
        }
        return (r.ok() ? "ok" : "failed") + (d.isObject() && !d.isEmpty() ? " " + oneLine(d.toString()) : "");
    }

    /** A statement on one line: newlines would let a statement forge transcript lines. */
    private static String oneLine(String sql) {
        return sql == null ? "" : sql.replace("\r", "\\r").replace("\n", "\\n");
    }
}
