package dev.portcullis.admin.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.ext.web.client.WebClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Asks OPA for decisions. Never fails and never allows by default: OPA down, slower than
 * {@code portcullis.admin.opa.decision-timeout}, answering an HTTP error, nothing or garbage is a
 * {@link PolicyDecision#unavailable} decision that says which. Nothing is cached: every action is asked afresh.
 * <p>
 * The answer arrives on the caller's Vert.x context, so a caller inside a Hibernate Reactive transaction can go on
 * with its session.
 */
@ApplicationScoped
public class PolicyClient {
    private static final Logger LOG = Logger.getLogger(PolicyClient.class);

    private final OpaConfig config;
    private final ObjectMapper json;
    private final WebClient http;

    PolicyClient(OpaConfig config, ObjectMapper json, Vertx vertx) {
        this.config = config;
        this.json = json;
        this.http = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) config.decisionTimeout().toMillis())
                .setFollowRedirects(false));
    }

    /** @param entry the entry point under {@code portcullis/}, such as {@code approve} */
    public Uni<PolicyDecision> decide(String entry, Object input) {
        String name = "portcullis/" + entry;
        return ask(name + "/decision", input).map(answer -> {
            if (answer.problem() != null) {
                return PolicyDecision.unavailable(answer.problem());
            }
            return PolicyDecision.parse(answer.body(), name);
        }).invoke(decision -> {
            if (!decision.answered()) {
                LOG.warnf("OPA %s: %s", name, decision.problem());
            }
        });
    }

    /**
     * The value of a document, such as {@code portcullis/admin/roles}, for this input.
     *
     * @return OPA's {@code result}, or a problem when there is none (OPA down, slow, undefined, garbage)
     */
    public Uni<Answer> evaluate(String path, Object input) {
        return ask(path, input).map(answer -> {
            if (answer.problem() == null && (answer.body().get("result") == null || answer.body().get("result").isNull())) {
                return new Answer(null, "the policy engine has no " + path + " (undefined: is the policy bundle deployed?)");
            }
            return answer.problem() == null ? new Answer(answer.body().get("result"), null) : answer;
        }).invoke(answer -> {
            if (answer.problem() != null) {
                LOG.warnf("OPA %s: %s", path, answer.problem());
            }
        });
    }

    /** @param body OPA's answer (for {@link #evaluate}, its result); null when there is a problem instead */
    public record Answer(JsonNode body, String problem) {
    }

    private Uni<Answer> ask(String path, Object input) {
        ObjectNode body = json.createObjectNode();
        body.set("input", json.valueToTree(input));
        long timeout = config.decisionTimeout().toMillis();
        return http.postAbs(config.url().toString().replaceAll("/+$", "") + "/v1/data/" + path)
                .putHeader("Content-Type", "application/json")
                .timeout(timeout)
                .sendBuffer(Buffer.buffer(body.toString()))
                .map(response -> {
                    if (response.statusCode() != 200) {
                        LOG.warnf("OPA %s: HTTP %d %s", path, response.statusCode(), response.bodyAsString());
                        return new Answer(null, "the policy engine answered HTTP " + response.statusCode());
                    }
                    try {
                        JsonNode answer = json.readTree(response.bodyAsString());
                        return answer != null && answer.isObject() ? new Answer(answer, null)
                                : new Answer(null, "the policy engine's " + path + " answer is not a JSON object");
                    } catch (java.io.IOException | DecodeException e) {
                        return new Answer(null, "the policy engine's " + path + " answer is not JSON");
                    }
                })
                .onFailure().recoverWithItem(failure -> {
                    LOG.warnf("OPA %s failed: %s", path, failure.toString());
                    boolean slow = failure instanceof TimeoutException
                            || String.valueOf(failure.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timeout");
                    return new Answer(null, slow
                            ? "the policy engine did not answer within " + timeout + " ms"
                            : "the policy engine is unreachable");
                });
    }
}
