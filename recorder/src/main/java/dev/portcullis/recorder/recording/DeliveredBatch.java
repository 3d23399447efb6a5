package dev.portcullis.recorder.recording;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.contract.events.CanonicalEvent;
import dev.portcullis.contract.events.InvalidEventException;
import dev.portcullis.contract.events.SessionEvents;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A slice of a poll, read: each record split into its events (JSON Lines) and each event checked and canonicalised
 * ({@link SessionEvents#canonical}), grouped by session. Lines that break the contract are kept aside as received,
 * grouped by partition and session, to be parked.
 *
 * <p>Reading is most of the recorder's CPU (JSON parse and canonical write), so a large slice is read on several
 * threads; the grouping keeps the order of the records.
 */
public record DeliveredBatch(List<SessionDelivery> sessions, List<Unreadable> unreadable, int lines) {
    private static final ObjectMapper LENIENT = new ObjectMapper();
    /** Below this many records one thread reads faster than several are started. */
    private static final int PARALLEL_FROM = 256;

    /**
     * Lines that are not events of the contract (version 1 or 2), as received.
     *
     * @param sessionId the session the lines name (or the record key names), when either is a UUID
     * @param firstSeq  the lowest seq the lines show, when they show one
     * @param error     why the first of them was refused (never quoting it)
     */
    public record Unreadable(Source source, UUID sessionId, Long firstSeq, Long lastSeq, List<byte[]> lines, String error) {
    }

    private record Line(ConsumerRecord<String, byte[]> record, int index, int of, byte[] raw, CanonicalEvent event,
            String error) {
    }

    public static DeliveredBatch read(List<ConsumerRecord<String, byte[]>> records) {
        var stream = records.size() >= PARALLEL_FROM ? records.parallelStream() : records.stream();
        List<List<Line>> read = stream.map(DeliveredBatch::read).toList(); // toList keeps the encounter order
        Map<UUID, SessionDelivery> bySession = new LinkedHashMap<>();
        Map<String, Unreadable> unreadable = new LinkedHashMap<>();
        int lines = 0;
        for (List<Line> record : read) {
            for (Line line : record) {
                lines++;
                ConsumerRecord<String, byte[]> r = line.record();
                if (line.event() != null) {
                    SessionDelivery d = bySession.computeIfAbsent(line.event().sessionId(), id ->
                            new SessionDelivery(id, Source.of(r.topic(), r.partition(), r.offset()), new ArrayList<>()));
                    d.events().add(line.event());
                    // A session's events share its key and so its partition. Should a producer key one by another
                    // session, the events are still stored in seq order; the source names the first partition seen.
                    if (d.source().partition() == r.partition() && d.source().topic().equals(r.topic())
                            && d.source().with(r.offset()) != d.source()) {
                        bySession.put(d.sessionId(), new SessionDelivery(d.sessionId(), d.source().with(r.offset()), d.events()));
                    }
                } else {
                    keepAside(unreadable, line);
                }
            }
        }
        return new DeliveredBatch(List.copyOf(bySession.values()), List.copyOf(unreadable.values()), lines);
    }

    private static List<Line> read(ConsumerRecord<String, byte[]> record) {
        List<byte[]> raw = SessionEvents.lines(record.value());
        List<Line> lines = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            try {
                lines.add(new Line(record, i, raw.size(), raw.get(i), SessionEvents.canonical(raw.get(i)), null));
            } catch (InvalidEventException e) {
                lines.add(new Line(record, i, raw.size(), raw.get(i), null, e.getMessage()));
            }
        }
        return lines;
    }

    private static void keepAside(Map<String, Unreadable> unreadable, Line line) {
        ConsumerRecord<String, byte[]> r = line.record();
        JsonNode tree = lenient(line.raw());
        UUID sessionId = uuid(tree.path("session_id").asText(null));
        if (sessionId == null) {
            sessionId = uuid(r.key());
        }
        Long seq = tree.path("seq").canConvertToLong() && tree.path("seq").isIntegralNumber() ? tree.path("seq").longValue() : null;
        String where = "line " + (line.index() + 1) + " of " + line.of() + " of the record at " + r.topic() + "-"
                + r.partition() + "@" + r.offset();
        String group = r.topic() + "/" + r.partition() + "/" + sessionId;
        Unreadable before = unreadable.get(group);
        if (before == null) {
            List<byte[]> lines = new ArrayList<>();
            lines.add(line.raw());
            unreadable.put(group, new Unreadable(Source.of(r.topic(), r.partition(), r.offset()), sessionId, seq, seq,
                    lines, where + ": " + line.error()));
        } else {
            before.lines().add(line.raw());
            unreadable.put(group, new Unreadable(before.source().with(r.offset()), sessionId, min(before.firstSeq(), seq),
                    max(before.lastSeq(), seq), before.lines(), before.error()));
        }
    }

    /** The line as JSON, whatever is wrong with it as an event; a missing node when it is not JSON at all. */
    private static JsonNode lenient(byte[] raw) {
        try {
            JsonNode tree = raw.length == 0 ? null : LENIENT.readTree(raw);
            return tree == null ? LENIENT.missingNode() : tree;
        } catch (java.io.IOException e) {
            return LENIENT.missingNode();
        }
    }

    private static UUID uuid(String s) {
        try {
            return s != null && s.length() == 36 ? UUID.fromString(s) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Long min(Long a, Long b) {
        return a == null ? b : b == null ? a : Long.valueOf(Math.min(a, b));
    }

    private static Long max(Long a, Long b) {
        return a == null ? b : b == null ? a : Long.valueOf(Math.max(a, b));
    }
}
