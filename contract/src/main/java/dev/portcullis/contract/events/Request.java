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
 * @param sql        the full SQL text as the client sent it. The only field that may hold literal values.
 * @param decision   how it was decided
 */
public record Request(String message, JsonNode statements, String sql, Decision decision) implements EventBody {
    public static final String TYPE = "request";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
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
