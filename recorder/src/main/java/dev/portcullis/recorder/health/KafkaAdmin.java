package dev.portcullis.recorder.health;

import dev.portcullis.recorder.RecorderConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** The recorder's one Kafka admin client, for the readiness check and the lag; it connects on first use. */
@ApplicationScoped
public class KafkaAdmin {
    private final RecorderConfig config;
    private Admin admin;

    KafkaAdmin(RecorderConfig config) {
        this.config = config;
    }

    public synchronized Admin get() {
        if (admin == null) {
            int ms = (int) config.readinessTimeout().toMillis();
            admin = Admin.create(Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers(),
                    AdminClientConfig.CLIENT_ID_CONFIG, "portcullis-recorder-health",
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms,
                    AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000));
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }
}
