package dev.portcullis.admin.session;

import dev.portcullis.contract.events.HashChain;
import dev.portcullis.contract.events.RecordingChunks;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
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

    RecordingFixture(DataSource db, RecordingsConfig config) {
        this.db = db;
        this.bucket = config.s3Bucket();
        this.s3 = S3Client.builder().endpointOverride(URI.create(config.s3Endpoint().toString())).region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(config.s3AccessKey().orElseThrow(), config.s3SecretKey().orElseThrow())))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    String store(List<SessionEvent> events, int chunkSize) throws SQLException {
        UUID id = events.get(0).sessionId();
        String prefix = RecordingChunks.sessionPrefix(id, events.get(0).at());
        byte[] link = HashChain.start();
        List<byte[]> hashes = new ArrayList<>();
        for (int from = 0; from < events.size(); from += chunkSize) {
            List<byte[]> lines = new ArrayList<>();
            for (SessionEvent e : events.subList(from, Math.min(events.size(), from + chunkSize))) {
                byte[] json = SessionEvents.toJson(e);
                link = HashChain.next(link, json);
                hashes.add(link);
                lines.add(json);
            }
            putChunk(RecordingChunks.chunkKey(prefix, from + 1), lines);
        }
        SessionEvent last = events.get(events.size() - 1);
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO sessions (id, object_prefix, started_at, identity_subject,"
                    + " identity_name, connection_name, connection_type, last_seq, last_hash, last_event_at, requests)"
                    + " VALUES (?, ?, ?, 'agent-ci', 'agent-ci', 'demo-dev', 'postgres', ?, ?, ?, ?)")) {
                s.setObject(1, id);
                s.setString(2, prefix);
                s.setTimestamp(3, Timestamp.from(events.get(0).at()));
                s.setLong(4, last.seq());
                s.setBytes(5, link);
                s.setTimestamp(6, Timestamp.from(last.at()));
                s.setLong(7, events.stream().filter(e -> e.type().equals("request")).count());
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO session_events (session_id, seq, at, type, chunk_seq, hash)"
                    + " VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < events.size(); i++) {
                    s.setObject(1, id);
                    s.setLong(2, events.get(i).seq());
                    s.setTimestamp(3, Timestamp.from(events.get(i).at()));
                    s.setString(4, events.get(i).type());
                    s.setLong(5, (i / chunkSize) * chunkSize + 1);
                    s.setBytes(6, hashes.get(i));
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
        return prefix;
    }

    void putChunk(String key, List<byte[]> lines) {
        s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(RecordingChunks.encode(lines)));
    }

    List<byte[]> chunk(String key) {
        return RecordingChunks.decode(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray(), 1 << 24);
    }
}
