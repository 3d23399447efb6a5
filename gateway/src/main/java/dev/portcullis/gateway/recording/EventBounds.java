package dev.portcullis.gateway.recording;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
    /** In a cut statements array, each statement's {@code normalized} text and lists are shortened to these. */
    static final int MAX_NORMALIZED_CHARS = 4096;
    static final int MAX_LIST_ITEMS = 64;

    private EventBounds() {
    }

    /** A text as an event holds it: whole, or its first bytes and what was cut. */
    record Text(String kept, Request.Truncated.Text cut) {
    }

    /** The statements array as an event holds it, and what was cut from it ({@code null}: nothing). */
    record Statements(JsonNode tree, Request.Truncated.Statements cut) {
    }

    /** The text, or its first {@link Request#MAX_SQL_BYTES} UTF-8 bytes with the whole text's length and SHA-256. */
    static Text text(String text) {
        if (text == null || text.length() <= Request.MAX_SQL_BYTES / 3) {
            return new Text(text, null); // fits whatever its characters are
        }
        MessageDigest sha = sha256();
        long bytes = utf8(text, sha);
        if (bytes <= Request.MAX_SQL_BYTES) {
            return new Text(text, null);
        }
        String kept = prefixWithin(text, Request.MAX_SQL_BYTES);
        return new Text(kept, new Request.Truncated.Text(bytes, utf8(kept, null), HexFormat.of().formatHex(sha.digest())));
    }

    /**
     * The statements as JSON within {@link Request#MAX_STATEMENTS_BYTES}: all of them when they fit, else the first
     * ones that fit once each one's {@code normalized} text and lists are shortened.
     */
    static Statements statements(Object statements) {
        JsonNode all = SessionEvents.tree(statements);
        String json = all.toString();
        if (json.length() <= Request.MAX_STATEMENTS_BYTES / 3 || utf8(json, null) <= Request.MAX_STATEMENTS_BYTES) {
            return new Statements(all, null);
        }
        ArrayNode kept = JsonNodeFactory.instance.arrayNode();
        long size = 2;
        for (JsonNode statement : all) {
            JsonNode shortened = shorten(statement);
            long bytes = utf8(shortened.toString(), null) + 1;
            if (size + bytes > Request.MAX_STATEMENTS_BYTES) {
                break;
            }
            kept.add(shortened);
            size += bytes;
        }
        return new Statements(kept, new Request.Truncated.Statements(all.size(), kept.size()));
    }

    private static JsonNode shorten(JsonNode statement) {
        if (!(statement instanceof ObjectNode o)) {
            return statement;
        }
        ObjectNode copy = o.deepCopy();
        JsonNode normalized = copy.get("normalized");
        if (normalized != null && normalized.isTextual() && normalized.textValue().length() > MAX_NORMALIZED_CHARS) {
            copy.put("normalized", normalized.textValue().substring(0, MAX_NORMALIZED_CHARS));
        }
        for (String list : List.of("tables", "functions")) {
            if (copy.get(list) instanceof ArrayNode items && items.size() > MAX_LIST_ITEMS) {
                while (items.size() > MAX_LIST_ITEMS) {
                    items.remove(items.size() - 1);
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
