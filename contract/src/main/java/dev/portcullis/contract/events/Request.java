package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code request}: a message that carries meaning, and the decision on it. Written once the decision is made,
 * whether the request then runs or not.
 *
 * @param message    the wire message: {@code query}, {@code parse}, {@code function_call} or {@code copy}
 * @param statements a JSON array: exactly the decision input's {@code request.statements}
 *                   (policies-rego/schema/request.input.schema.json); build it with {@link SessionEvents#tree}
 * @param sql        the SQL text as the client sent it, up to {@link #MAX_SQL_BYTES}. The only field that may hold
 *                   literal values.
 * @param truncated  what was left out to keep the event bounded; {@code null} when the event holds everything
 * @param decision   how it was decided
 */
public record Request(String message, JsonNode statements, String sql, Truncated truncated, Decision decision)
        implements EventBody {
    public static final String TYPE = "request";
    /** The most of a request's text an event holds, in UTF-8 bytes; the rest is represented by its length and hash. */
    public static final int MAX_SQL_BYTES = 32 * 1024;
    /** The most the {@code statements} array of an event takes, in bytes of JSON. */
    public static final int MAX_STATEMENTS_BYTES = 32 * 1024;

    /** A request whose event holds everything. */
    public Request(String message, JsonNode statements, String sql, Decision decision) {
        this(message, statements, sql, null, decision);
    }

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }

    /**
     * What a bounded {@code request} event left out. Each part is {@code null} when nothing of it was cut.
     *
     * @param sql        the text was cut to its first {@code keptBytes} bytes (at a character boundary)
     * @param statements only the first {@code kept} of {@code count} statements are in the event, each with its
     *                   {@code normalized} text and its lists shortened
     */
    public record Truncated(Text sql, Statements statements) {
        /**
         * @param bytes     the whole text's length in UTF-8 bytes
         * @param keptBytes how many of them the event holds
         * @param sha256    the SHA-256 of the whole text's UTF-8 bytes, lower-case hex: proves which text ran
         */
        public record Text(long bytes, long keptBytes, String sha256) {
        }

        public record Statements(int count, int kept) {
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
