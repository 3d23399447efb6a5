package dev.portcullis.recorder;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * Settings of the recorder. Defaults point at the local stack (dev-services/stack.properties and .stack/secrets.properties);
 * production sets each one, for example as PORTCULLIS_RECORDER_KAFKA_TOPIC. The bucket is contract's {@code RecordingBucket}
 * ({@code portcullis.recordings.s3.*}), shared with the admin API.
 */
@ConfigMapping(prefix = "portcullis.recorder")
public interface RecorderConfig {

    Kafka kafka();


    Retention retention();

    Batch batch();

    Health health();

    /** How long a readiness check (or an outage probe) waits for Kafka, S3 or PostgreSQL before reporting it DOWN. */
    @WithDefault("5s")
    Duration readinessTimeout();

    interface Batch {
        /**
         * A poll is stored in slices of at most this many events, one after the other (one S3 object and one
         * PostgreSQL transaction each; the next slice is read while one is written), so memory and every statement
         * stay bounded whatever a poll brings.
         */
        @WithDefault("10000")
        int maxEvents();

        /** ... and of at most this many bytes of event JSON. */
        @WithDefault("16777216")
        int maxBytes();

        /**
         * Attempts at a slice, while PostgreSQL and S3 answer, before it is stored session by session and what still
         * fails is parked. While either is down the recorder retries without counting: that is an outage, not bad
         * content.
         */
        @WithDefault("3")
        int contentAttempts();

        /** How often the recorder looks for parked runs to replay (requested through the admin API). */
        @WithDefault("2s")
        Duration replayEvery();
    }

    interface Health {
        /** How often the consumer lag (end offset minus committed offset, per partition) and parked runs are read. */
        @WithDefault("5s")
        Duration refreshEvery();

        /** Not ready when events wait (lag above 0) and nothing was stored for this long. */
        @WithDefault("60s")
        Duration stalledAfter();
    }

    interface Kafka {
        /** Kafka bootstrap servers, host:port[,host:port...]. */
        @WithDefault("${KAFKA_BOOTSTRAP}")
        String bootstrapServers();

        /** Topic the gateways publish session events to, keyed by session id. */
        @WithDefault("${SESSION_EVENTS_TOPIC}")
        String topic();

        /** Consumer group. Recorder replicas share it, so each partition (and each session) has one writer. */
        @WithDefault("portcullis-recorder")
        String groupId();
    }

    interface Retention {
        /**
         * How long a recording is kept after its last event. Then its PostgreSQL rows are deleted, and each S3 object
         * once no recording points at it any more.
         */
        @WithDefault("365d")
        Duration period();

        /** How often the recorder looks for recordings past the retention period. */
        @WithDefault("1h")
        Duration checkEvery();
    }
}
