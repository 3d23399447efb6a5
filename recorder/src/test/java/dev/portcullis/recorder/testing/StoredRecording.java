package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.ChainVerifier;
import dev.portcullis.contract.events.RecordingChunks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** What the recorder stored for one session, read back from the real PostgreSQL and S3. */
public record StoredRecording(UUID sessionId, long lastSeq, byte[] lastHash, long requests, long denials,
        String endReason, String subject, String connection, List<ChainVerifier.Link> links, Map<Long, Chunk> chunks) {

    /** A row of session_chunks: where the run that starts at {@code firstSeq} lies. */
    public record Chunk(long firstSeq, long lastSeq, String objectKey, long offset, Long length) {
    }

    /** A way to open the database that holds the index: the stack's, or a test's own PostgreSQL. */
    @FunctionalInterface
    public interface Database {
        Connection open() throws SQLException;
    }

    /** @return {@code null} when there is no session row in the stack's database */
    public static StoredRecording read(UUID sessionId) throws SQLException {
        return read(Stack::portcullisDb, sessionId);
    }

    /** @return {@code null} when there is no session row */
    public static StoredRecording read(Database database, UUID sessionId) throws SQLException {
        try (Connection db = database.open()) {
            StoredRecording session;
            try (PreparedStatement s = db.prepareStatement("SELECT last_seq, last_hash, requests, denials,"
                    + " end_reason, identity_subject, connection_name FROM sessions WHERE id = ?")) {
                s.setObject(1, sessionId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    session = new StoredRecording(sessionId, rs.getLong(1), rs.getBytes(2), rs.getLong(3), rs.getLong(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), new ArrayList<>(), new LinkedHashMap<>());
                }
            }
            try (PreparedStatement s = db.prepareStatement("SELECT first_seq, last_seq, object_key, byte_offset, byte_length"
                    + " FROM session_chunks WHERE session_id = ? ORDER BY first_seq")) {
                s.setObject(1, sessionId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        long length = rs.getLong(5);
                        session.chunks.put(rs.getLong(1), new Chunk(rs.getLong(1), rs.getLong(2), rs.getString(3),
                                rs.getLong(4), rs.wasNull() ? null : length));
                    }
                }
            }
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT seq, chunk_seq, hash FROM session_events WHERE session_id = ? ORDER BY seq")) {
                s.setObject(1, sessionId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        session.links.add(new ChainVerifier.Link(rs.getLong(1), rs.getLong(2), rs.getBytes(3)));
                    }
                }
            }
            return session;
        }
    }

    public static long lastSeq(UUID sessionId) throws SQLException {
        StoredRecording r = read(sessionId);
        return r == null ? 0 : r.lastSeq();
    }

    /** Recomputes the chain from the S3 chunks, as verify does. */
    public ChainVerifier.Outcome verify(S3Client s3, String bucket) {
        return verify(s3, bucket, new ArrayList<>());
    }

    /** As {@link #verify(S3Client, String)}, and adds every line of every chunk read to {@code lines}. */
    public ChainVerifier.Outcome verify(S3Client s3, String bucket, List<byte[]> lines) {
        ChainVerifier verifier = new ChainVerifier(sessionId);
        Map<Long, List<ChainVerifier.Link>> byChunk = new LinkedHashMap<>();
        links.forEach(l -> byChunk.computeIfAbsent(l.chunkSeq(), c -> new ArrayList<>()).add(l));
        for (var chunk : byChunk.entrySet()) {
            Chunk where = chunks.get(chunk.getKey());
            List<byte[]> read = where == null ? null : lines(s3, bucket, where);
            if (read != null) {
                lines.addAll(read);
            }
            verifier.check(chunk.getValue(), read);
        }
        return verifier.finish(lastSeq, lastHash);
    }

    /** Every line of every chunk of the session, in order: what S3 holds of it. */
    public List<byte[]> allStoredLines(S3Client s3, String bucket) {
        List<byte[]> all = new ArrayList<>();
        for (Chunk chunk : chunks.values()) {
            all.addAll(lines(s3, bucket, chunk));
        }
        return all;
    }

    /** The lines of one chunk: a byte range of its object (a gzip member), or the whole object (before V5). */
    public static List<byte[]> lines(S3Client s3, String bucket, Chunk chunk) {
        try {
            byte[] bytes = s3.getObjectAsBytes(b -> {
                b.bucket(bucket).key(chunk.objectKey());
                if (chunk.length() != null) {
                    b.range("bytes=" + chunk.offset() + "-" + (chunk.offset() + chunk.length() - 1));
                }
            }).asByteArray();
            return RecordingChunks.decode(bytes, 64 << 20);
        } catch (NoSuchKeyException e) {
            return null;
        }
    }

    public static List<byte[]> lines(S3Client s3, String bucket, String key) {
        try {
            return RecordingChunks.decode(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray(), 64 << 20);
        } catch (NoSuchKeyException e) {
            return null;
        }
    }

    /** Polls until the condition holds, or fails the test after the timeout. */
    public static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** lastSeq that turns SQL failures into "not yet". */
    public static BooleanSupplier reaches(UUID sessionId, long seq) {
        return () -> {
            try {
                return lastSeq(sessionId) >= seq;
            } catch (SQLException e) {
                return false;
            }
        };
    }
}
