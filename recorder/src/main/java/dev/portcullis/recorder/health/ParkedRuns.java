package dev.portcullis.recorder.health;

import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.parking.ParkedStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import io.smallrye.health.api.Wellness;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Default;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * Parked runs that are not replayed yet, read every {@code portcullis.recorder.health.refresh-every}: the gauges
 * {@code portcullis.recorder.parked.runs} and {@code .events}, and a wellness check ({@code /q/health/well}, part of
 * {@code /q/health}) that is DOWN while any is parked. Not a readiness check: the recorder goes on storing everything
 * else, and a probe that took it out of service would stop that too.
 */
@Wellness
@Default // also injected: the consumer and the replayer report to it
@ApplicationScoped
public class ParkedRuns implements HealthCheck {
    static final String NAME = "Parked recordings";

    private final ParkedStore parked;
    private final RecorderConfig config;
    private volatile ParkedStore.Backlog backlog;
    private volatile String error = "not read yet";

    ParkedRuns(ParkedStore parked, RecorderConfig config, MeterRegistry meters) {
        this.parked = parked;
        this.config = config;
        Gauge.builder("portcullis.recorder.parked.runs", this, p -> p.backlog == null ? Double.NaN : p.backlog.runs())
                .description("Parked runs of events not replayed yet (the recorder's dead-letter store)").register(meters);
        Gauge.builder("portcullis.recorder.parked.events", this, p -> p.backlog == null ? Double.NaN : p.backlog.events())
                .description("Events in parked runs not replayed yet").register(meters);
    }

    void schedule(@Observes StartupEvent startup, Scheduler scheduler) {
        scheduler.newJob("recorder-parked-runs")
                .setInterval(config.health().refreshEvery().toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> refresh())
                .schedule();
    }

    /** Reads the backlog now (also after a park or a replay, so the gauges need not wait for the next round). */
    public void refresh() {
        try {
            backlog = parked.backlog();
            error = null;
        } catch (RuntimeException e) {
            error = String.valueOf(e.getMessage());
        }
    }

    @Override
    public HealthCheckResponse call() {
        ParkedStore.Backlog now = backlog;
        var response = HealthCheckResponse.named(NAME);
        if (now == null) {
            return response.up().withData("note", "not known yet: " + error).build();
        }
        response.withData("parked_runs", now.runs()).withData("parked_events", now.events());
        if (now.runs() == 0) {
            return response.up().build();
        }
        return response.down().withData("oldest_parked_at", String.valueOf(now.oldest()))
                .withData("error", now.runs() + " run(s) of events could not be stored and are parked (never dropped). List"
                        + " them: GET /recordings/parked on the admin API; once the cause is fixed, replay them:"
                        + " dev-services/stack replay-parked [ID]")
                .build();
    }
}
