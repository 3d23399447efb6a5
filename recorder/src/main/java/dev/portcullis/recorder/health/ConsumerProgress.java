package dev.portcullis.recorder.health;

import dev.portcullis.recorder.RecorderConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Default;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Whether the recorder keeps up: the consumer group's lag (end offset minus committed offset, per partition of the
 * topic, read through a Kafka admin client every {@code portcullis.recorder.health.refresh-every}) and when a slice
 * was last stored. Not ready when events wait and nothing was stored for {@code stalled-after}: a recorder that
 * retries one batch forever must not look healthy.
 *
 * <p>The lag is the group's, over all its replicas: a replica whose partitions are idle still reports a stall of
 * another. Committed offsets trail what is stored by the commit interval (5 s by default).
 */
@Readiness
@Default // also injected: the consumer and the replayer report to it
@ApplicationScoped
public class ConsumerProgress implements HealthCheck {
    static final String NAME = "Recorder consumer progress";

    private final RecorderConfig config;
    private final Duration stalledAfter;
    private volatile Instant lastStored = Instant.now(); // since the start: a recorder that never stores stalls too
    private volatile Lag lag = new Lag(-1, Map.of(), "not read yet");
    private final KafkaAdmin kafka;

    /** @param total events waiting, or -1 when unknown (then {@code error} says why) */
    record Lag(long total, Map<Integer, Long> byPartition, String error) {
    }

    ConsumerProgress(RecorderConfig config, KafkaAdmin kafka, MeterRegistry meters) {
        this.config = config;
        this.kafka = kafka;
        this.stalledAfter = config.health().stalledAfter();
        Gauge.builder("portcullis.recorder.consumer.lag", this, p -> p.lag.total() < 0 ? Double.NaN : p.lag.total())
                .description("Events in Kafka not yet stored and committed by the recorder's consumer group")
                .register(meters);
        Gauge.builder("portcullis.recorder.progress.age", this, p -> Duration.between(p.lastStored, Instant.now()).toMillis() / 1000.0)
                .description("Seconds since the recorder last stored (or parked) a slice of events")
                .baseUnit("seconds").register(meters);
    }

    void schedule(@Observes StartupEvent startup, Scheduler scheduler) {
        scheduler.newJob("recorder-consumer-lag")
                .setInterval(config.health().refreshEvery().toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> lag = readLag())
                .schedule();
    }

    /** A slice of events was stored or parked: the consumer moves. */
    public void stored() {
        lastStored = Instant.now();
    }

    @Override
    public HealthCheckResponse call() {
        Lag now = lag;
        Duration idle = Duration.between(lastStored, Instant.now());
        var response = HealthCheckResponse.named(NAME)
                .withData("last_stored_at", lastStored.toString())
                .withData("lag", now.total());
        if (now.total() < 0) {
            return response.up().withData("note", "the lag is unknown: " + now.error()).build();
        }
        response.withData("lag_by_partition", now.byPartition().toString());
        if (now.total() > 0 && idle.compareTo(stalledAfter) > 0) {
            return response.down().withData("error", "nothing was stored for " + idle.toSeconds() + " s while " + now.total()
                    + " record(s) wait in Kafka; the recorder log names the batch it retries and why").build();
        }
        return response.up().build();
    }

    private Lag readLag() {
        String topic = config.kafka().topic();
        long timeout = config.readinessTimeout().toMillis();
        try {
            Admin a = kafka.get();
            Map<TopicPartition, OffsetAndMetadata> committed = a.listConsumerGroupOffsets(config.kafka().groupId())
                    .partitionsToOffsetAndMetadata().get(timeout, TimeUnit.MILLISECONDS);
            int partitions = a.describeTopics(java.util.List.of(topic)).allTopicNames().get(timeout, TimeUnit.MILLISECONDS)
                    .get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                latest.put(tp, OffsetSpec.latest());
                if (committed.get(tp) == null) {
                    earliest.put(tp, OffsetSpec.earliest()); // a new group starts at the oldest event
                }
            }
            var ends = a.listOffsets(latest).all().get(timeout, TimeUnit.MILLISECONDS);
            var starts = earliest.isEmpty() ? Map.<TopicPartition, org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo>of()
                    : a.listOffsets(earliest).all().get(timeout, TimeUnit.MILLISECONDS);
            Map<Integer, Long> byPartition = new TreeMap<>();
            for (var end : ends.entrySet()) {
                OffsetAndMetadata c = committed.get(end.getKey());
                long from = c != null ? c.offset() : starts.get(end.getKey()).offset();
                byPartition.put(end.getKey().partition(), Math.max(0, end.getValue().offset() - from));
            }
            return new Lag(byPartition.values().stream().collect(Collectors.summingLong(Long::longValue)), byPartition, null);
        } catch (java.util.concurrent.ExecutionException e) {
            return new Lag(-1, Map.of(), String.valueOf(e.getCause().getMessage()));
        } catch (java.util.concurrent.TimeoutException e) {
            return new Lag(-1, Map.of(), "Kafka gave no answer within " + timeout + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Lag(-1, Map.of(), "interrupted");
        } catch (RuntimeException e) {
            return new Lag(-1, Map.of(), String.valueOf(e.getMessage()));
        }
    }
}
