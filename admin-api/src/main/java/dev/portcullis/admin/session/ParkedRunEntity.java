package dev.portcullis.admin.session;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A row of {@code parked_runs} (contract V5): events the recorder could not store, kept in its dead-letter store.
 * The API reads them and sets replay requests; the recorder does the replay.
 */
@Entity
@Table(name = "parked_runs")
public class ParkedRunEntity extends PanacheEntityBase {
    @Id
    public long id;
    @Column(name = "parked_at")
    public OffsetDateTime parkedAt;
    public String reason;
    public String error;
    @Column(name = "object_key")
    public String objectKey;
    public String topic;
    @Column(name = "kafka_partition")
    public int kafkaPartition;
    @Column(name = "first_offset")
    public long firstOffset;
    @Column(name = "last_offset")
    public long lastOffset;
    @Column(name = "session_id")
    public UUID sessionId;
    @Column(name = "first_seq")
    public Long firstSeq;
    @Column(name = "last_seq")
    public Long lastSeq;
    public int events;
    public String state;
    @Column(name = "replay_requested_at")
    public OffsetDateTime replayRequestedAt;
    @Column(name = "replay_requested_by")
    public String replayRequestedBy;
    @Column(name = "replay_attempts")
    public int replayAttempts;
    @Column(name = "replayed_at")
    public OffsetDateTime replayedAt;

    public static final String REPLAYED = "replayed";
    public static final String REPLAY_REQUESTED = "replay_requested";
}
