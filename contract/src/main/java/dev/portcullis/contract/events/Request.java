package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code request}: something a client asked for in a session (a statement, a Kubernetes API call, an SSH channel),
 * and the decision on it. Written once the decision is made, whether the request then runs or not.
 *
 * @param protocol  the engine that analysed it: {@code postgres}, {@code kubernetes} or {@code ssh}; the same as the
 *                  decision input's {@code request.protocol}
 * @param message   the wire message or operation it came from (PostgreSQL: {@code query}, {@code parse},
 *                  {@code function_call} or {@code copy})
 * @param details   what the request is, as the policy saw it, a JSON object shaped per protocol (contract/EVENTS.md;
 *                  PostgreSQL: {@code {"statements": [...]}}, every statement in order, in the form of the decision
 *                  input's {@code request.statements}), at most
 *                  {@link #MAX_DETAILS_BYTES} of JSON; build it with {@link SessionEvents#tree}
 * @param text      the request as the client sent it (SQL, a URL, a command line), up to {@link #MAX_TEXT_BYTES}, or
 *                  {@code null} when there is none. The only field that may hold literal values.
 * @param truncated what was left out to keep the event bounded; {@code null} when the event holds everything
 * @param decision  how it was decided
 */
public record Request(String protocol, String message, JsonNode details, String text, Truncated truncated, Decision decision)
        implements EventBody {
    public static final String TYPE = "request";
    /** The most of a request's text an event holds, in UTF-8 bytes; the rest is represented by its length and hash. */
    public static final int MAX_TEXT_BYTES = 32 * 1024;
    /** The most the {@code details} of an event take, in bytes of JSON. */
    public static final int MAX_DETAILS_BYTES = 32 * 1024;

    /** A PostgreSQL request that the event holds whole: its details are {@code {"statements": statements}}. */
    public static Request postgres(String message, JsonNode statements, String sql, Decision decision) {
        return new Request("postgres", message, SessionEvents.tree(java.util.Map.of("statements", statements)), sql, null, decision);
    }

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }

    /**
     * What a bounded {@code request} event left out. Each part is {@code null} when nothing of it was cut.
     *
     * @param text    the text was cut to its first {@code keptBytes} bytes (at a character boundary)
     * @param details the details were cut
     */
    public record Truncated(Text text, Details details) {
        /**
         * @param bytes     the whole text's length in UTF-8 bytes
         * @param keptBytes how many of them the event holds
         * @param sha256    the SHA-256 of the whole text's UTF-8 bytes, lower-case hex: proves which text ran
         */
        public record Text(long bytes, long keptBytes, String sha256) {
        }

        /**
         * @param count how many items their list had (PostgreSQL: statements); {@code null} when they have no list
         *              and were left out altogether
         * @param kept  how many of those items the event holds, each with its long strings and lists shortened
         */
        public record Details(Integer count, Integer kept) {
        }
    }

    /**
     * @param id               the decision id (the one in the client's error message, if denied)
     * @param allow            whether the request may run
     * @param policy           the rule that decided, for example {@code pg/role-write}
     * @param revision         the policy bundle revision the decision was made under
     * @param reasons          why; non-empty when denied
     * @param approvalRequired true when the request is held for approval (then {@code allow} is false)
     * @param latencyUs        how long the decision took, in microseconds
     * @param source           where the decision came from: {@code opa}, {@code cache} or {@code memo}
     */
    public record Decision(String id, boolean allow, String policy, String revision, List<String> reasons,
            boolean approvalRequired, long latencyUs, String source) {
    }
}
