package dev.portcullis.gateway.protocol.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the policy sees of a write's body: the object as JSON, a Secret's values never, and no object at all (with the
 * reason) when the body could be read two ways or not at all, so that the policy never judges something other than what
 * the API server will store.
 */
class RequestObjectTest {

    @Test
    void a_pod_reaches_the_policy_as_sent_and_the_body_is_kept_to_send_on() {
        String pod = "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"web\",\"securityContext\":{\"privileged\":true}}]}}";
        RequestObject.Read read = RequestObject.parse(Buffer.buffer(pod), "pods");
        assertNull(read.error());
        assertEquals(true, read.object().at("/spec/containers/0/securityContext/privileged").booleanValue());
        assertEquals(pod, read.body().toString());
    }

    @Test
    void a_secrets_values_never_reach_the_policy_but_reach_the_cluster() {
        String secret = "{\"kind\":\"Secret\",\"data\":{\"password\":\"czNjcjN0\"},\"stringData\":{\"token\":\"plain\"}}";
        RequestObject.Read read = RequestObject.parse(Buffer.buffer(secret), "secrets");
        assertEquals("Kioq", read.object().at("/data/password").asText());
        assertEquals("***", read.object().at("/stringData/token").asText());
        assertEquals(secret, read.body().toString(), "the API server gets what the client sent");
        RequestObject.Read patch = RequestObject.parse(Buffer.buffer("[{\"op\":\"replace\",\"path\":\"/data/password\",\"value\":\"czNjcjN0\"}]"),
                "Secrets");
        assertEquals("***", patch.object().at("/0/value").asText());
        assertEquals("/data/password", patch.object().at("/0/path").asText());
        assertFalse(patch.object().toString().contains("czNjcjN0"));
    }

    @Test
    void a_body_that_is_not_one_json_object_or_patch_is_not_json() {
        for (String body : List.of("", "k8s\0\n\017v1", "kind: Pod\nspec: {}", "\"a string\"", "42",
                "{\"spec\":{\"securityContext\":{\"privileged\":false,\"privileged\":true}}}", "{\"kind\":\"Pod\"} {\"kind\":\"Pod\"}",
                "{\"kind\":")) {
            RequestObject.Read read = RequestObject.parse(Buffer.buffer(body), "pods");
            assertEquals(RequestObject.NOT_JSON, read.error(), body);
            assertNull(read.object(), body);
            assertEquals(body, read.body().toString(), "the body still goes on as sent, for an administrator");
        }
    }
}
