package dev.portcullis.recorder.recording;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.contract.events.CanonicalEvent;
import dev.portcullis.contract.events.HashChain;
import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionStarted;
import dev.portcullis.recorder.storage.Sql;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * The events of one session in one slice that are not stored yet, in seq order, chained onto the stored end of the
 * session's chain: what goes into one gzip member of the slice's object and into its PostgreSQL transaction.
 *
 * @param source        where in Kafka the events came from
 * @param storedLastSeq the seq at which the stored chain ends (0 if nothing is stored): the run goes on from there
 * @param events        the new events, seq ascending, each seq once
 * @param hashes        {@code hashes[i]} is the chain link of {@code events[i]}
 * @param duplicates    events of the slice that were stored before or given twice (redelivery)
 */
public record SessionRun(UUID sessionId, Source source, long storedLastSeq, List<CanonicalEvent> events,
        List<byte[]> hashes, int duplicates) {

    /**
     * @param delivery this session's events from one slice, in any order, possibly with repeats
     * @param chainEnd what is already stored of the session, or {@code null}
     * @return the run, with no events if the slice held nothing new
     */
    public static SessionRun of(SessionDelivery delivery, RecordingIndex.ChainEnd chainEnd) {
        UUID sessionId = delivery.sessionId();
        List<CanonicalEvent> batch = delivery.events();
        List<CanonicalEvent> sorted = new ArrayList<>(batch);
        sorted.sort(Comparator.comparingLong(CanonicalEvent::seq)); // stable: of two equal seqs the first received wins
        long storedLastSeq = chainEnd == null ? 0 : chainEnd.lastSeq();
        long lastSeq = storedLastSeq;
        byte[] link = chainEnd == null ? HashChain.start() : chainEnd.lastHash();
        List<CanonicalEvent> fresh = new ArrayList<>();
        List<byte[]> hashes = new ArrayList<>();
        for (CanonicalEvent event : sorted) {
            if (event.seq() <= lastSeq) {
                continue;
            }
            link = HashChain.next(link, event.json());
            fresh.add(event);
            hashes.add(link);
            lastSeq = event.seq();
        }
        return new SessionRun(sessionId, delivery.source(), storedLastSeq, List.copyOf(fresh), List.copyOf(hashes),
                batch.size() - fresh.size());
    }

    public boolean isEmpty() {
        return events.isEmpty();
    }

    public long firstSeq() {
        return events.get(0).seq();
    }

    public long lastSeq() {
        return events.get(events.size() - 1).seq();
    }

    public byte[] lastHash() {
        return hashes.get(hashes.size() - 1);
    }

    /** The run's lines: each event's canonical JSON. */
    public List<byte[]> lines() {
        return events.stream().map(CanonicalEvent::json).toList();
    }

    /** One {@code session_events} row: the event's place in the chain and the fields an index query needs. */
    public record Row(long seq, Instant at, String type, byte[] hash, Boolean allow, String policy, Long rows) {
    }

    public List<Row> rows() {
        List<Row> rows = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            CanonicalEvent e = events.get(i);
            JsonNode decision = e.field("decision");
            boolean request = Request.TYPE.equals(e.type());
            rows.add(new Row(e.seq(), e.at(), e.type(), hashes.get(i),
                    request && decision.path("allow").isBoolean() ? decision.path("allow").booleanValue() : null,
                    request ? text(decision.path("policy")) : null,
                    e.resultRows()));
        }
        return rows;
    }

    /** What the run adds to the {@code sessions} row; {@code null} where it says nothing. */
    public record Summary(Instant lastAt, long requests, long denials, Instant startedAt, String subject, String name,
            String connection, String connectionType, String sourceIp, String gateway, Instant endedAt, String endReason) {
    }

    public Summary summary() {
        Instant lastAt = Instant.EPOCH;
        long requests = 0;
        long denials = 0;
        Instant startedAt = null;
        Instant endedAt = null;
        String subject = null, name = null, connection = null, connectionType = null, sourceIp = null, gateway = null;
        String endReason = null;
        for (CanonicalEvent e : events) {
            lastAt = e.at().isAfter(lastAt) ? e.at() : lastAt;
            switch (e.type()) {
                case Request.TYPE -> {
                    requests++;
                    if (!e.field("decision").path("allow").asBoolean(false)) {
                        denials++;
                    }
                }
                case SessionStarted.TYPE -> {
                    startedAt = e.at();
                    subject = text(e.field("identity").path("subject"));
                    name = text(e.field("identity").path("name"));
                    connection = text(e.field("connection").path("name"));
                    connectionType = text(e.field("connection").path("type"));
                    sourceIp = text(e.field("source_ip"));
                    gateway = text(e.field("gateway"));
                }
                case SessionEnded.TYPE -> {
                    endedAt = e.at();
                    endReason = text(e.field("reason"));
                }
                default -> {
                }
            }
        }
        return new Summary(lastAt, requests, denials, startedAt, subject, name, connection, connectionType, sourceIp,
                gateway, endedAt, endReason);
    }

    /**
     * Index columns hold short text that PostgreSQL accepts (no NUL); the recording keeps the value as sent.
     */
    private static String text(JsonNode node) {
        return node.isTextual() ? Sql.text(node.textValue(), 512) : null;
    }
}
