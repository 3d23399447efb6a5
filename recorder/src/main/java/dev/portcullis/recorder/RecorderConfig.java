package dev.portcullis.recorder;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * Settings of the recorder. Defaults point at the local stack (dev-services/stack.properties and .stack/secrets.properties);
 * production sets each one, for example as PORTCULLIS_RECORDER_S3_BUCKET.
 */
@ConfigMapping(prefix = "portcullis.recorder")
public interface RecorderConfig {

    Kafka kafka();

    S3 s3();

    Retention retention();

    /** How long a readiness check waits for Kafka or S3 before reporting it DOWN. */
    @WithDefault("5s")
    Duration readinessTimeout();

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
         * How long a recording is kept after its last event. Then its PostgreSQL rows and its S3 objects are
         * deleted together.
         */
        @WithDefault("365d")
        Duration period();

        /** How often the recorder looks for recordings past the retention period. */
        @WithDefault("1h")
        Duration checkEvery();
    }

    interface S3 {
        /** S3 API endpoint. Requests use path-style addressing, which s3proxy and MinIO need. */
        @WithDefault("${S3_ENDPOINT}")
        URI endpoint();

        /**
         * Bucket that holds the recordings ({@code recordings/<yyyy>/<mm>/<session-id>/<first-seq>.jsonl.gz}) and
         * the events that broke the contract ({@code rejected/<topic>/<partition>/<offset>}).
         */
        @WithDefault("${S3_BUCKET}")
        String bucket();

        /** Signing region; S3-compatible stores accept any, AWS needs the bucket's. */
        @WithDefault("us-east-1")
        String region();

        /** Access key id. Without it and the secret key, the S3 readiness check reports DOWN. */
        @WithDefault("${S3_ACCESS_KEY:}")
        Optional<String> accessKey();

        /** Secret access key. */
        @WithDefault("${S3_SECRET_KEY:}")
        Optional<String> secretKey();
    }
}
