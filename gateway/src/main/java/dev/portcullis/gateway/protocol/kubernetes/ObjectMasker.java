package dev.portcullis.gateway.protocol.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.portcullis.gateway.policy.Decision;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Masks the values of the policy's fields ({@link Decision.ResponseMask}, Kubernetes: Secret {@code data} and
 * {@code stringData}) in one JSON document of the API server: an object, a list's {@code items}, a Table's
 * {@code rows[].object} (kubectl's default output; the object is there with {@code includeObject=Object}), or a watch
 * event's {@code object}, nested as the API nests them. Each value is replaced and its key kept, so {@code kubectl get
 * secret -o yaml} still shows which keys a Secret has: under {@code data} (and {@code binaryData}), base64 values, by
 * {@value #MASKED_BASE64} (the base64 of {@value #MASKED}); elsewhere by {@value #MASKED}. The
 * {@value #LAST_APPLIED} annotation, a copy of the object as {@code kubectl apply} sent it, is masked the same way.
 * <p>
 * A document the masker cannot read is {@link Unmaskable}: the caller refuses it rather than pass it on.
 */
final class ObjectMasker {
    static final String MASKED = "***";
    static final String MASKED_BASE64 = "Kioq";
    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    /** Fields whose values the API serves base64-encoded. */
    private static final Set<String> BASE64_FIELDS = Set.of("data", "binaryData");
    /** How deep the API nests objects in a response: an event of a Table of objects is 3; anything deeper is not theirs. */
    private static final int MAX_DEPTH = 6;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The document cannot be masked; the message says why, for the client. */
    static final class Unmaskable extends Exception {
        Unmaskable(String message) {
            super(message, null, false, false);
        }
    }

    private final Set<String> fields;
    private final String rule;

    ObjectMasker(Decision.ResponseMask mask) {
        this.fields = Set.copyOf(mask.fields());
        this.rule = mask.rule();
    }

    String rule() {
        return rule;
    }

    /** One JSON document (a response body, or one watch event), masked. */
    byte[] mask(byte[] document, int offset, int length) throws Unmaskable {
        JsonNode root;
        try {
            root = JSON.readTree(document, offset, length);
        } catch (IOException e) {
            throw new Unmaskable("the API server's answer is not valid JSON");
        }
        if (!(root instanceof ObjectNode object)) {
            throw new Unmaskable("the API server's answer is not a JSON object");
        }
        document(object, 0);
        try {
            return JSON.writeValueAsBytes(object);
        } catch (JsonProcessingException e) {
            throw new Unmaskable("the masked answer could not be written");
        }
    }

    /** Masks one object in place: a Secret a client sends, before the policy and the recording see it. */
    void maskObject(ObjectNode object) {
        values(object);
        lastApplied(object);
    }

    private void document(ObjectNode object, int depth) throws Unmaskable {
        if (depth > MAX_DEPTH) {
            throw new Unmaskable("the API server's answer nests objects deeper than the gateway masks");
        }
        values(object);
        lastApplied(object);
        if (object.get("items") instanceof ArrayNode items) {
            for (JsonNode item : items) {
                if (item instanceof ObjectNode o) {
                    document(o, depth + 1);
                }
            }
        }
        if (object.get("rows") instanceof ArrayNode rows) {
            for (JsonNode row : rows) {
                if (row.get("object") instanceof ObjectNode o) {
                    document(o, depth + 1);
                }
            }
        }
        // a watch event {"type": ..., "object": ...}
        if (object.get("object") instanceof ObjectNode o) {
            document(o, depth + 1);
        }
    }

    /** Every value of the masked fields of this object, replaced; a field that is not a map is replaced whole. */
    private void values(ObjectNode object) {
        for (String field : fields) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                continue;
            }
            TextNode masked = TextNode.valueOf(BASE64_FIELDS.contains(field) ? MASKED_BASE64 : MASKED);
            if (value instanceof ObjectNode map) {
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext();) {
                    it.next().setValue(masked);
                }
            } else {
                object.set(field, masked);
            }
        }
    }

    /** The copy of the object that kubectl apply keeps in an annotation, masked alike; unreadable, it goes whole. */
    private void lastApplied(ObjectNode object) {
        if (!(object.get("metadata") instanceof ObjectNode metadata) || !(metadata.get("annotations") instanceof ObjectNode annotations)) {
            return;
        }
        JsonNode copy = annotations.get(LAST_APPLIED);
        if (copy == null) {
            return;
        }
        String masked = MASKED;
        try {
            if (copy.isTextual() && JSON.readTree(copy.textValue()) instanceof ObjectNode applied) {
                values(applied);
                masked = JSON.writeValueAsString(applied) + "\n";
            }
        } catch (IOException e) {
            // not JSON: nothing of it may pass
        }
        annotations.put(LAST_APPLIED, masked);
    }
}
