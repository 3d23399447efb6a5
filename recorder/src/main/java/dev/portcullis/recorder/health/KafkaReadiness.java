package dev.portcullis.recorder.health;

import dev.portcullis.recorder.RecorderConfig;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only if the Kafka cluster answers describeCluster within the readiness timeout. */
@Readiness
@Startup
@ApplicationScoped
public class KafkaReadiness implements AsyncHealthCheck {
    static final String NAME = "Kafka session-events cluster";

    private final RecorderConfig.Kafka config;
    private final Duration timeout;
    private final KafkaAdmin kafka;

    KafkaReadiness(RecorderConfig config, KafkaAdmin kafka) {
        this.config = config.kafka();
        this.timeout = config.readinessTimeout();
        this.kafka = kafka;
        kafka.get(); // at startup, off the event loop; it connects in the background
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        // the admin client's futures block: keep them off the event loop
        return Uni.createFrom().item(this::describeCluster)
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private HealthCheckResponse describeCluster() {
        var response = HealthCheckResponse.named(NAME).withData("bootstrap_servers", config.bootstrapServers());
        try {
            DescribeClusterResult cluster = kafka.get().describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()));
            String clusterId = cluster.clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            int brokers = cluster.nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
            return response.up().withData("cluster_id", clusterId).withData("brokers", brokers).build();
        } catch (TimeoutException e) {
            return response.down().withData("error", "no answer within " + timeout.toSeconds() + "s").build();
        } catch (ExecutionException e) {
            String why = e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException
                    ? "no answer within " + timeout.toSeconds() + "s (" + e.getCause().getMessage() + ")"
                    : String.valueOf(e.getCause().getMessage());
            return response.down().withData("error", why).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return response.down().withData("error", "interrupted").build();
        }
    }
}
