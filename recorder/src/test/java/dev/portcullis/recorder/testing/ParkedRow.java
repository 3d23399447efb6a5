package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.RecordingChunks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;

/** A row of parked_runs (the recorder's dead-letter store), read back from the real PostgreSQL. */
public record ParkedRow(long id, String reason, String error, String objectKey, String topic, int partition,
        long firstOffset, long lastOffset, UUID sessionId, Long firstSeq, Long lastSeq, int events, String state) {

    /** The parked runs of a topic, oldest first. */
    public static List<ParkedRow> ofTopic(StoredRecording.Database database, String topic) throws SQLException {
        return query(database, "topic = ?", topic);
    }

    /** The parked runs of a session, oldest first. */
    public static List<ParkedRow> ofSession(StoredRecording.Database database, UUID sessionId) throws SQLException {
        return query(database, "session_id = ?", sessionId);
    }

    private static List<ParkedRow> query(StoredRecording.Database database, String where, Object value) throws SQLException {
        try (Connection db = database.open(); PreparedStatement s = db.prepareStatement("SELECT id, reason, error, object_key,"
                + " topic, kafka_partition, first_offset, last_offset, session_id, first_seq, last_seq, events, state"
                + " FROM parked_runs WHERE " + where + " ORDER BY id")) {
            s.setObject(1, value);
            List<ParkedRow> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new ParkedRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getInt(6), rs.getLong(7), rs.getLong(8), (UUID) rs.getObject(9), (Long) rs.getObject(10),
                            (Long) rs.getObject(11), rs.getInt(12), rs.getString(13)));
                }
            }
            return rows;
        }
    }

    /** The parked lines, as kept in S3. */
    public List<byte[]> lines(S3Client s3, String bucket) {
        return RecordingChunks.decode(s3.getObjectAsBytes(b -> b.bucket(bucket).key(objectKey)).asByteArray(), 64 << 20);
    }
}
