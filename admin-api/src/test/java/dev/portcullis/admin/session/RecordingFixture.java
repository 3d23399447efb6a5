package dev.portcullis.admin.session;

import dev.portcullis.contract.RecordingBucket;
import dev.portcullis.contract.events.HashChain;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.RecordingChunks;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Stores a recording in the stack's real PostgreSQL and S3 in the recorder's layout (contract V3 and
 * {@link RecordingChunks}): chunks of {@code chunkSize} events, chained with {@link HashChain}. The recorder's own
 * tests cover how it gets there from Kafka; these tests are about reading it back.
 */
final class RecordingFixture {
    private final DataSource db;
    final S3Client s3;
    final String bucket;

    RecordingFixture(DataSource db, RecordingBucket recordings) {
        this.db = db;
        this.bucket = recordings.bucket();
        this.s3 = recordings.client(Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    /**
     * Stores the events as the recorder does since V5: one object, each chunk of {@code chunkSize} events a gzip
     * member of it, a session_chunks row per member. @return the object's key
     */
    String store(List<SessionEvent> events, int chunkSize) throws SQLException {
        RecordingChunks.ObjectWriter writer = new RecordingChunks.ObjectWriter();
        List<RecordingChunks.Member> members = new ArrayList<>();
        for (int from = 0; from < events.size(); from += chunkSize) {
            members.add(writer.add(events.subList(from, Math.min(events.size(), from + chunkSize)).stream()
                    .map(SessionEvents::toJson).toList()));
        }
        String key = RecordingChunks.objectKey(RecordingChunks.ROOT, events.get(0).at());
        s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(writer.toByteArray()));
        index(events, chunkSize, null, i -> key, members);
        return key;
    }

    /**
     * Stores the events in the layout before V5, one object per chunk under the session's prefix, with the chunk rows
     * V5's migration backfills for them (whole objects). @return the session's prefix
     */
    String storeLegacy(List<SessionEvent> events, int chunkSize) throws SQLException {
        String prefix = RecordingChunks.sessionPrefix(events.get(0).sessionId(), events.get(0).at());
        for (int from = 0; from < events.size(); from += chunkSize) {
            putChunk(RecordingChunks.chunkKey(prefix, from + 1), events.subList(from, Math.min(events.size(), from + chunkSize))
                    .stream().map(SessionEvents::toJson).toList());
        }
        index(events, chunkSize, prefix, i -> RecordingChunks.chunkKey(prefix, (long) i * chunkSize + 1), null);
        return prefix;
    }

    private void index(List<SessionEvent> events, int chunkSize, String prefix, java.util.function.IntFunction<String> keyOf,
            List<RecordingChunks.Member> members) throws SQLException {
        UUID id = events.get(0).sessionId();
        byte[] link = HashChain.start();
        List<byte[]> hashes = new ArrayList<>();
        for (SessionEvent e : events) {
            link = HashChain.next(link, SessionEvents.toJson(e));
            hashes.add(link);
        }
        SessionEvent last = events.get(events.size() - 1);
        boolean ended = last.body() instanceof SessionEnded;
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO sessions (id, object_prefix, started_at, identity_subject,"
                    + " identity_name, connection_name, connection_type, last_seq, last_hash, last_event_at, requests,"
                    + " ended_at, end_reason)"
                    + " VALUES (?, ?, ?, 'agent-ci', 'agent-ci', 'demo-dev', 'postgres', ?, ?, ?, ?, ?, ?)")) {
                s.setObject(1, id);
                s.setString(2, prefix);
                s.setTimestamp(3, Timestamp.from(events.get(0).at()));
                s.setLong(4, last.seq());
                s.setBytes(5, link);
                s.setTimestamp(6, Timestamp.from(last.at()));
                s.setLong(7, events.stream().filter(e -> e.type().equals("request")).count());
                s.setTimestamp(8, ended ? Timestamp.from(last.at()) : null);
                s.setString(9, ended ? ((SessionEnded) last.body()).reason() : null);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO session_chunks (session_id, first_seq, last_seq,"
                    + " object_key, byte_offset, byte_length) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i * chunkSize < events.size(); i++) {
                    s.setObject(1, id);
                    s.setLong(2, events.get(i * chunkSize).seq());
                    s.setLong(3, events.get(Math.min(events.size(), (i + 1) * chunkSize) - 1).seq());
                    s.setString(4, keyOf.apply(i));
                    s.setLong(5, members == null ? 0 : members.get(i).offset());
                    s.setObject(6, members == null ? null : (long) members.get(i).length());
                    s.addBatch();
                }
                s.executeBatch();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO session_events (session_id, seq, at, type, chunk_seq, hash)"
                    + " VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < events.size(); i++) {
                    s.setObject(1, id);
                    s.setLong(2, events.get(i).seq());
                    s.setTimestamp(3, Timestamp.from(events.get(i).at()));
                    s.setString(4, events.get(i).type());
                    s.setLong(5, events.get((i / chunkSize) * chunkSize).seq());
                    s.setBytes(6, hashes.get(i));
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
    }

    /** A parked run of the session's events, as the recorder parks a run PostgreSQL refused. @return its id */
    long park(List<SessionEvent> events, String error) throws SQLException {
        String key = RecordingChunks.objectKey(RecordingChunks.PARKED, events.get(0).at());
        putChunk(key, events.stream().map(SessionEvents::toJson).toList());
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement("INSERT INTO parked_runs (reason, error,"
                + " object_key, topic, kafka_partition, first_offset, last_offset, session_id, first_seq, last_seq, events)"
                + " VALUES ('store failed', ?, ?, 'portcullis.session-events', 2, 40, 41, ?, ?, ?, ?) RETURNING id")) {
            s.setString(1, error);
            s.setString(2, key);
            s.setObject(3, events.get(0).sessionId());
            s.setLong(4, events.get(0).seq());
            s.setLong(5, events.get(events.size() - 1).seq());
            s.setInt(6, events.size());
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    void putChunk(String key, List<byte[]> lines) {
        s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(RecordingChunks.encode(lines)));
    }

    List<byte[]> chunk(String key) {
        return RecordingChunks.decode(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray(), 1 << 24);
    }
}
