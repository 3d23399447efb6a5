package dev.portcullis.admin.policy;

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
        ObjectNode body = json.createObjectNode();
        body.set("input", json.valueToTree(input));
        long timeout = config.decisionTimeout().toMillis();
        return http.postAbs(config.url().toString().replaceAll("/+$", "") + "/v1/data/" + name + "/decision")
                .putHeader("Content-Type", "application/json")
                .timeout(timeout)
                .sendBuffer(Buffer.buffer(body.toString()))
                .map(response -> {
                    if (response.statusCode() != 200) {
                        LOG.warnf("OPA %s decision: HTTP %d %s", name, response.statusCode(), response.bodyAsString());
                        return PolicyDecision.unavailable("the policy engine answered HTTP " + response.statusCode());
                    }
                    try {
                        return PolicyDecision.parse(json.readTree(response.bodyAsString()), name);
                    } catch (java.io.IOException | DecodeException e) {
                        return PolicyDecision.unavailable("the policy engine's " + name + " answer is not JSON");
                    }
                })
                .onFailure().recoverWithItem(failure -> {
                    LOG.warnf("OPA %s decision failed: %s", name, failure.toString());
                    boolean slow = failure instanceof TimeoutException
                            || String.valueOf(failure.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timeout");
                    return PolicyDecision.unavailable(slow
                            ? "the policy engine did not answer within " + timeout + " ms"
                            : "the policy engine is unreachable");
                })
                .invoke(decision -> {
                    if (!decision.answered()) {
                        LOG.warnf("OPA %s: %s", name, decision.problem());
                    }
                });
    }
}
