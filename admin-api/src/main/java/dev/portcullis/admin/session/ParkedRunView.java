package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A parked run as the API shows it: where its events came from in Kafka, which session and seqs they are (when
 * known), why they are parked, and where a replay stands. The events themselves stay in S3 ({@code object_key}).
 *
 * @param state {@code parked}, {@code replay_requested} (the recorder picks it up within seconds) or {@code replayed}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ParkedRunView(long id, OffsetDateTime parkedAt, String reason, String error, String topic, int partition,
        long firstOffset, long lastOffset, UUID sessionId, Long firstSeq, Long lastSeq, int events, String state,
        OffsetDateTime replayRequestedAt, String replayRequestedBy, int replayAttempts, OffsetDateTime replayedAt,
        String objectKey) {

    static ParkedRunView of(ParkedRunEntity p) {
        return new ParkedRunView(p.id, p.parkedAt, p.reason, p.error, p.topic, p.kafkaPartition, p.firstOffset,
                p.lastOffset, p.sessionId, p.firstSeq, p.lastSeq, p.events, p.state, p.replayRequestedAt,
                p.replayRequestedBy, p.replayAttempts, p.replayedAt, p.objectKey);
    }
}
