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
import software.amazon.awssdk.services.s3.model.S3Object;

/** What the recorder stored for one session, read back from the real PostgreSQL and S3. */
public record StoredRecording(UUID sessionId, String objectPrefix, long lastSeq, byte[] lastHash, long requests,
        long denials, String endReason, String subject, String connection, List<ChainVerifier.Link> links) {

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
            try (PreparedStatement s = db.prepareStatement("SELECT object_prefix, last_seq, last_hash, requests, denials,"
                    + " end_reason, identity_subject, connection_name FROM sessions WHERE id = ?")) {
                s.setObject(1, sessionId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    session = new StoredRecording(sessionId, rs.getString(1), rs.getLong(2), rs.getBytes(3), rs.getLong(4),
                            rs.getLong(5), rs.getString(6), rs.getString(7), rs.getString(8), new ArrayList<>());
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
        ChainVerifier verifier = new ChainVerifier(sessionId);
        Map<Long, List<ChainVerifier.Link>> byChunk = new LinkedHashMap<>();
        links.forEach(l -> byChunk.computeIfAbsent(l.chunkSeq(), c -> new ArrayList<>()).add(l));
        for (var chunk : byChunk.entrySet()) {
            verifier.check(chunk.getValue(), lines(s3, bucket, RecordingChunks.chunkKey(objectPrefix, chunk.getKey())));
        }
        return verifier.finish(lastSeq, lastHash);
    }

    /** Every line of every object under the session's prefix: what a copy of the bucket would hold. */
    public List<byte[]> allStoredLines(S3Client s3, String bucket) {
        List<byte[]> all = new ArrayList<>();
        for (S3Object o : s3.listObjectsV2(b -> b.bucket(bucket).prefix(objectPrefix)).contents()) {
            all.addAll(lines(s3, bucket, o.key()));
        }
        return all;
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
