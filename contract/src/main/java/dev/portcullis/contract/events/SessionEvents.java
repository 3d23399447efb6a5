package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Writes and reads session events in their wire form (contract/EVENTS.md). The gateway builds a
 * {@link SessionEvent} and sends {@link #toJson}; the recorder and the verifier read bytes with {@link #canonical},
 * which keeps every field and yields the bytes the hash chain covers.
 */
public final class SessionEvents {
    /** The largest integer every JSON implementation reads exactly (2^53-1). */
    public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
    /** An event larger than this is refused. Kafka's default message limit is about the same. */
    public static final int MAX_EVENT_BYTES = 1 << 20;

    static final String V = "v";
    static final String SESSION_ID = "session_id";
    static final String SEQ = "seq";
    static final String AT = "at";
    static final String TYPE = "type";
    private static final Set<String> ENVELOPE = Set.of(V, SESSION_ID, SEQ, AT, TYPE);
    private static final Pattern TYPE_NAME = Pattern.compile("[a-z][a-z0-9_.]{0,63}");
    private static final Map<String, Class<? extends EventBody>> BODIES = Map.of(
            SessionStarted.TYPE, SessionStarted.class,
            Request.TYPE, Request.class,
            Result.TYPE, Result.class,
            Approval.TYPE, Approval.class,
            Output.TYPE, Output.class,
            SessionEnded.TYPE, SessionEnded.class);
    private static final DateTimeFormatter AT_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SECOND_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    /** The text of one UTC second, up to the seconds: events of the same second share it. */
    private record Second(long epochSecond, String text) {
    }

    private static volatile Second lastSecond = new Second(Long.MIN_VALUE, "");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .serializationInclusion(JsonInclude.Include.ALWAYS)
            // a key given twice would let two readers see two different events behind one hash. Checked as the tree
            // is built (the map's put tells), which costs nothing, unlike the parser's own check (a set per object).
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            // fields a newer minor revision adds are kept in the tree and ignored by the records
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private SessionEvents() {
    }

    /**
     * {@code at} as the contract writes it, {@code 2026-11-28T08:00:00.123Z}. The same as formatting with
     * {@code uuuu-MM-dd'T'HH:mm:ss.SSS'Z'} in UTC, which cost a third of writing an event (its fraction goes through
     * BigDecimal): the part up to the seconds is formatted once per second and reused.
     */
    static String formatAt(Instant at) {
        long epochSecond = at.getEpochSecond();
        Second second = lastSecond;
        if (second.epochSecond() != epochSecond) {
            second = new Second(epochSecond, SECOND_FORMAT.format(Instant.ofEpochSecond(epochSecond)));
            lastSecond = second;
        }
        int millis = at.getNano() / 1_000_000;
        return new StringBuilder(second.text().length() + 5).append(second.text()).append('.')
                .append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10))
                .append('Z').toString();
    }

    /** The event's wire form: canonical JSON, UTF-8. This is what the gateway publishes. */
    public static byte[] toJson(SessionEvent event) {
        return CanonicalJson.write(toTree(event));
    }

    /**
     * The event as the gateway sends it: the same JSON as {@link #toJson} but for the order of the keys, written
     * straight from the records without building a tree or sorting (a few times cheaper). Readers canonicalise
     * what they receive ({@link #canonical(byte[])}), so the hash chain is the same.
     */
    public static byte[] toWire(SessionEvent event) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(512);
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField(V, SessionEvent.VERSION);
            g.writeStringField(SESSION_ID, event.sessionId().toString());
            g.writeNumberField(SEQ, event.seq());
            g.writeStringField(AT, formatAt(event.at()));
            g.writeStringField(TYPE, event.type());
            var provider = JSON.getSerializerProviderInstance();
            provider.findValueSerializer(event.body().getClass())
                    .unwrappingSerializer(com.fasterxml.jackson.databind.util.NameTransformer.NOP)
                    .serialize(event.body(), g, provider);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a session event", e);
        }
        return out.toByteArray();
    }

    public static ObjectNode toTree(SessionEvent event) {
        ObjectNode node = JSON.createObjectNode();
        node.put(V, SessionEvent.VERSION);
        node.put(SESSION_ID, event.sessionId().toString());
        node.put(SEQ, event.seq());
        node.put(AT, formatAt(event.at()));
        node.put(TYPE, event.type());
        ObjectNode body = JSON.valueToTree(event.body());
        body.fields().forEachRemaining(field -> node.set(field.getKey(), field.getValue()));
        return node;
    }

    /** Any value as a JSON tree, written the contract's way (snake_case, nulls kept): for {@link Request#details}. */
    public static JsonNode tree(Object value) {
        return JSON.valueToTree(value);
    }

    /**
     * The events of one Kafka record: its value holds one or more events of the record key's session, in
     * {@code seq} order, one per line (JSON Lines; the wire form has no raw line break). A final line break is
     * allowed. Each line is then read with {@link #canonical(byte[])}.
     */
    public static List<byte[]> lines(byte[] recordValue) {
        if (recordValue == null || recordValue.length == 0) {
            return List.of(new byte[0]);
        }
        List<byte[]> lines = new ArrayList<>(1);
        int start = 0;
        for (int i = 0; i < recordValue.length; i++) {
            if (recordValue[i] == '\n') {
                lines.add(Arrays.copyOfRange(recordValue, start, i));
                start = i + 1;
            }
        }
        if (start < recordValue.length) {
            lines.add(start == 0 ? recordValue : Arrays.copyOfRange(recordValue, start, recordValue.length));
        }
        return lines;
    }

    /**
     * Reads received bytes: checks size, syntax and envelope, keeps every field, and canonicalises.
     *
     * @throws InvalidEventException naming what is wrong (never quoting the event)
     */
    public static CanonicalEvent canonical(byte[] raw) {
        if (raw == null || raw.length == 0) {
            throw new InvalidEventException("the event is empty");
        }
        if (raw.length > MAX_EVENT_BYTES) {
            throw new InvalidEventException("the event is " + raw.length + " bytes; the limit is " + MAX_EVENT_BYTES);
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(raw);
        } catch (IOException e) {
            throw new InvalidEventException("the event is not valid JSON: " + describe(e));
        }
        if (tree == null || !tree.isObject()) {
            throw new InvalidEventException("the event is not a JSON object");
        }
        return canonical((ObjectNode) tree);
    }

    /** As {@link #canonical(byte[])}, for an already parsed event. */
    public static CanonicalEvent canonical(ObjectNode tree) {
        JsonNode v = tree.get(V);
        if (v == null || !v.isIntegralNumber() || v.asLong() < SessionEvent.OLDEST_VERSION || v.asLong() > SessionEvent.VERSION) {
            throw new InvalidEventException("field v must be " + SessionEvent.OLDEST_VERSION + " to " + SessionEvent.VERSION
                    + " (the contract versions this reader knows)");
        }
        UUID sessionId = sessionId(tree.get(SESSION_ID));
        JsonNode seq = tree.get(SEQ);
        if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong() || seq.asLong() < 1
                || seq.asLong() > MAX_SAFE_INTEGER) {
            throw new InvalidEventException("field seq must be an integer from 1 to 2^53-1");
        }
        Instant at = at(tree.get(AT));
        JsonNode type = tree.get(TYPE);
        if (type == null || !type.isTextual() || !TYPE_NAME.matcher(type.textValue()).matches()) {
            throw new InvalidEventException("field type must be a lower-case event type such as request");
        }
        return new CanonicalEvent(v.intValue(), sessionId, seq.asLong(), at, type.textValue(), tree, CanonicalJson.write(tree));
    }

    /**
     * The typed event, in the current contract version's records: an event of version 1 is read as its version 2
     * equivalent (its stored form, which the hash chain covers, is unchanged). A {@code type} the contract does not
     * define is refused here; readers that must keep such events (the recorder) use {@link #canonical} alone.
     */
    public static SessionEvent read(CanonicalEvent event) {
        Class<? extends EventBody> bodyType = BODIES.get(event.type());
        if (bodyType == null) {
            throw new InvalidEventException("type " + event.type() + " is not defined in contract v" + event.version());
        }
        ObjectNode body = event.tree().deepCopy();
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            if (ENVELOPE.contains(names.next())) {
                names.remove();
            }
        }
        if (event.version() == 1) {
            body = fromVersion1(event.type(), body);
        }
        try {
            return new SessionEvent(event.sessionId(), event.seq(), event.at(), JSON.treeToValue(body, bodyType));
        } catch (JsonProcessingException e) {
            throw new InvalidEventException("a " + event.type() + " event has a field of the wrong type: " + describe(e));
        }
    }

    /**
     * A version 1 body in version 2's shape. Version 1 knew only PostgreSQL: a request's {@code statements} and
     * {@code sql} are its {@code details.statements} and {@code text}; a result's {@code rows}, {@code command_tag}
     * and {@code sqlstate} are its {@code details}. Version 1 never wrote an {@code output}.
     */
    private static ObjectNode fromVersion1(String type, ObjectNode v1) {
        ObjectNode v2 = JSON.createObjectNode();
        switch (type) {
            case Request.TYPE -> {
                v2.put("protocol", "postgres");
                v2.set("message", v1.path("message"));
                v2.set("details", JSON.createObjectNode().set("statements", v1.path("statements")));
                v2.set("text", v1.path("sql"));
                JsonNode truncated = v1.path("truncated");
                if (truncated.isObject()) {
                    ObjectNode t = v2.putObject("truncated");
                    t.set("text", truncated.path("sql"));
                    t.set("details", truncated.path("statements"));
                }
                v2.set("decision", v1.path("decision"));
            }
            case Result.TYPE -> {
                v2.put("protocol", "postgres");
                v2.set("request_seq", v1.path("request_seq"));
                v2.put("ok", v1.path("sqlstate").isNull());
                v2.set("bytes", v1.path("bytes"));
                v2.set("duration_us", v1.path("duration_us"));
                v2.set("masked", v1.path("masked"));
                v2.set("masked_omitted", v1.path("masked_omitted"));
                v2.set("detectors", v1.path("detectors"));
                ObjectNode details = v2.putObject("details");
                details.set("rows", v1.path("rows"));
                details.set("command_tag", v1.path("command_tag"));
                details.set("sqlstate", v1.path("sqlstate"));
            }
            default -> {
                return v1; // the other types are the same in both versions
            }
        }
        // a field missing from the version 1 event stays missing (a MissingNode is not written), as it would be read
        v2.properties().removeIf(field -> field.getValue().isMissingNode());
        return v2;
    }

    /** Reads and types bytes in one go: {@code read(canonical(raw))}. */
    public static SessionEvent read(byte[] raw) {
        return read(canonical(raw));
    }

    private static UUID sessionId(JsonNode node) {
        if (node != null && node.isTextual() && node.textValue().length() == 36) {
            try {
                UUID id = UUID.fromString(node.textValue());
                // one spelling per session: the id is part of object keys and the Kafka key
                if (id.toString().equals(node.textValue())) {
                    return id;
                }
            } catch (IllegalArgumentException e) {
                // falls through to the error below
            }
        }
        throw new InvalidEventException("field session_id must be a UUID in lower case, like 0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40");
    }

    private static Instant at(JsonNode node) {
        if (node != null && node.isTextual() && node.textValue().length() <= 40) {
            Instant usual = usualAt(node.textValue());
            if (usual != null) {
                return usual;
            }
            try {
                return Instant.parse(node.textValue());
            } catch (DateTimeParseException e) {
                // falls through to the error below
            }
        }
        throw new InvalidEventException("field at must be a UTC timestamp like 2026-11-28T08:00:00.123Z");
    }

    /**
     * {@code at} as the contract writes it ({@code 2026-11-28T08:00:00.123Z}), read without DateTimeFormatter, which
     * cost a tenth of reading an event; {@code null} for any other spelling, which {@link Instant#parse} then reads.
     */
    private static Instant usualAt(String s) {
        if (s.length() != 24 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(19) != '.' || s.charAt(23) != 'Z') {
            return null;
        }
        int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2), hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2), second = digits(s, 17, 2), millis = digits(s, 20, 3);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || millis < 0) {
            return null;
        }
        try {
            return java.time.LocalDateTime.of(year, month, day, hour, minute, second, millis * 1_000_000)
                    .toInstant(ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            return null; // out of range (or a leap second, which Instant.parse knows how to take)
        }
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** Where the JSON is wrong, without Jackson's message, which can quote the event's values. */
    private static String describe(JsonProcessingException e) {
        String where = "";
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            where = "field " + String.join(".", mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]").toList());
        } else if (e.getLocation() != null) {
            where = "at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        }
        boolean duplicate = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field");
        return (duplicate ? "a field appears twice " : "") + (where.isEmpty() ? "unreadable" : where);
    }

    private static String describe(IOException e) {
        return e instanceof JsonProcessingException json ? describe(json) : "unreadable";
    }
}
