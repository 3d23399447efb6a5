package dev.portcullis.gateway.recording;

import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.SessionEvents;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Keeps every event the gateway sends within {@link #MAX_EVENT_BYTES}, by construction: what a client controls (a
 * request's text, its statements, a result's columns) and what a policy returns (reasons) is cut to a fixed size,
 * and the event says what was cut ({@link Request.Truncated}). A 60 MiB statement is recorded as its first 32 KiB,
 * its length and its SHA-256, so its event, and the Kafka record that carries it, stay small enough to send.
 */
final class EventBounds {
    /** The largest event the gateway sends; readers accept up to {@link SessionEvents#MAX_EVENT_BYTES}. */
    static final int MAX_EVENT_BYTES = 128 * 1024;
    static final int MAX_REASONS = 16;
    static final int MAX_REASON_CHARS = 1024;
    /** In a cut list of details (PostgreSQL: statements), each item's strings and lists are shortened to these. */
    static final int MAX_STRING_CHARS = 4096;
    static final int MAX_LIST_ITEMS = 64;

    private EventBounds() {
    }

    /** A text as an event holds it: whole, or its first bytes and what was cut. */
    record Text(String kept, Request.Truncated.Text cut) {
    }

    /** A request's details as an event holds them, and what was cut from them ({@code null}: nothing). */
    record Details(JsonNode tree, Request.Truncated.Details cut) {
        /** The same, with the tree written once as JSON ({@link Written}), which does not keep the tree. */
        Written written() {
            return new Written(tree == null ? null : new POJONode(new RawValue(new SerializedString(tree.toString()))), cut);
        }
    }

    /**
     * A request's details written once: an event's {@code details} node that writes these bytes as they are. The
     * events of a repeated request (the same details instance) copy them instead of walking a tree again.
     */
    record Written(JsonNode json, Request.Truncated.Details cut) {
    }

    /** The text, or its first {@link Request#MAX_TEXT_BYTES} UTF-8 bytes with the whole text's length and SHA-256. */
    static Text text(String text) {
        if (text == null || text.length() <= Request.MAX_TEXT_BYTES / 3) {
            return new Text(text, null); // fits whatever its characters are
        }
        MessageDigest sha = sha256();
        long bytes = utf8(text, sha);
        if (bytes <= Request.MAX_TEXT_BYTES) {
            return new Text(text, null);
        }
        String kept = prefixWithin(text, Request.MAX_TEXT_BYTES);
        return new Text(kept, new Request.Truncated.Text(bytes, utf8(kept, null), HexFormat.of().formatHex(sha.digest())));
    }

    /**
     * A request's details (a JSON object) within {@link Request#MAX_DETAILS_BYTES}: whole when they fit; else, when
     * they hold a list (PostgreSQL: {@code statements}), the first items of it that fit once each one's long strings
     * and lists are shortened; else nothing of them.
     */
    static Details details(Object details) {
        JsonNode all = SessionEvents.tree(details);
        String json = all.toString();
        if (json.length() <= Request.MAX_DETAILS_BYTES / 3 || utf8(json, null) <= Request.MAX_DETAILS_BYTES) {
            return new Details(all, null);
        }
        String list = null;
        if (all instanceof ObjectNode o) {
            for (var field : o.properties()) {
                if (field.getValue().isArray()) {
                    list = field.getKey();
                    break;
                }
            }
        }
        if (list == null) {
            return new Details(null, new Request.Truncated.Details(null, null));
        }
        ObjectNode kept = ((ObjectNode) all).deepCopy();
        ArrayNode items = kept.putArray(list);
        long size = utf8(kept.toString(), null);
        if (size > Request.MAX_DETAILS_BYTES) {
            return new Details(null, new Request.Truncated.Details(null, null));
        }
        for (JsonNode item : all.get(list)) {
            JsonNode shortened = shorten(item);
            long bytes = utf8(shortened.toString(), null) + 1;
            if (size + bytes > Request.MAX_DETAILS_BYTES) {
                break;
            }
            items.add(shortened);
            size += bytes;
        }
        return new Details(kept, new Request.Truncated.Details(all.get(list).size(), items.size()));
    }

    /** An item of a cut list with its strings cut to {@link #MAX_STRING_CHARS} and its lists to {@link #MAX_LIST_ITEMS}. */
    private static JsonNode shorten(JsonNode item) {
        if (!(item instanceof ObjectNode o)) {
            return item;
        }
        ObjectNode copy = o.deepCopy();
        for (var field : copy.properties()) {
            JsonNode value = field.getValue();
            if (value.isTextual() && value.textValue().length() > MAX_STRING_CHARS) {
                field.setValue(JsonNodeFactory.instance.textNode(value.textValue().substring(0, MAX_STRING_CHARS)));
            } else if (value instanceof ArrayNode list) {
                while (list.size() > MAX_LIST_ITEMS) {
                    list.remove(list.size() - 1);
                }
            }
        }
        return copy;
    }

    /** At most {@link #MAX_REASONS} reasons of at most {@link #MAX_REASON_CHARS} characters each. */
    static List<String> reasons(List<String> reasons) {
        if (reasons.size() <= MAX_REASONS && reasons.stream().allMatch(r -> r.length() <= MAX_REASON_CHARS)) {
            return reasons;
        }
        List<String> out = new ArrayList<>(Math.min(reasons.size(), MAX_REASONS));
        for (String r : reasons.subList(0, Math.min(reasons.size(), MAX_REASONS))) {
            out.add(r.length() <= MAX_REASON_CHARS ? r : r.substring(0, MAX_REASON_CHARS));
        }
        return out;
    }

    /** The longest prefix of {@code text} whose UTF-8 form fits in {@code maxBytes}, never splitting a character. */
    static String prefixWithin(String text, int maxBytes) {
        long bytes = 0;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + size > maxBytes) {
                break;
            }
            bytes += size;
            i += Character.charCount(cp);
        }
        return text.substring(0, i);
    }

    /** The UTF-8 length of the text (what {@code getBytes(UTF_8)} would give), fed to {@code sha} on the way if given. */
    private static long utf8(String text, MessageDigest sha) {
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        CharBuffer in = CharBuffer.wrap(text);
        ByteBuffer out = ByteBuffer.allocate(8192);
        long bytes = 0;
        CoderResult r;
        do {
            r = encoder.encode(in, out, true); // overflow: out is full, drain it and go on
            out.flip();
            bytes += out.remaining();
            if (sha != null) {
                sha.update(out);
            }
            out.clear();
        } while (r.isOverflow());
        return bytes; // UTF-8 has nothing to flush
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
