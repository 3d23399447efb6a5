package dev.portcullis.gateway.session;

import dev.portcullis.gateway.GatewayConfig;
import io.quarkus.arc.All;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * The graceful drain on SIGTERM, before anything else shuts down: the replica takes no new sessions and reports not
 * ready ({@code health/DrainReadiness}); the live sessions run on for up to the grace period
 * ({@code portcullis.shutdown.grace-period}); then each that is left ends with FATAL 57P01 and a reason, its backend
 * work cancelled, and {@code session.ended} recorded. Only then do the other shutdown observers run, the recorder's
 * among them, which flushes the journal: nothing ends after it.
 */
@ApplicationScoped
public class Drain {
    private static final Logger LOG = Logger.getLogger(Drain.class);

    /** What the client of a session the drain ends is told. */
    static final String SHUTDOWN_MESSAGE = "terminating connection: the Portcullis gateway is shutting down; connect again"
            + " to reach another replica";
    /** Time for the sessions ended at the end of the grace period to stop their backend work and close. */
    static final Duration ENDING_TIME = Duration.ofSeconds(10);

    private final SessionRegistry registry;
    private final List<Engine> engines;
    private final Duration grace;

    Drain(SessionRegistry registry, @All List<Engine> engines, GatewayConfig config) {
        this.registry = registry;
        this.engines = engines;
        this.grace = config.shutdown().gracePeriod();
    }

    // Priority 1: before every other shutdown observer (default 2500), while the event loops, the recorder and
    // Kafka still run.
    void onShutdown(@Observes @Priority(1) ShutdownEvent event) throws InterruptedException {
        long start = System.nanoTime();
        registry.drain();
        engines.forEach(Engine::stopAccepting);
        int live = registry.liveOrOpening();
        LOG.infof("drain: taking no new sessions; %d live, waiting up to %s for them to end", live, grace);
        boolean quiet = await(this::quiet, grace);
        int ended = 0;
        if (!quiet) {
            int left = registry.liveOrOpening();
            engines.forEach(e -> e.endAll(SHUTDOWN_MESSAGE));
            ended = left;
            LOG.infof("drain: grace period over after %d ms; ending the %d sessions left", millis(start), left);
            if (!await(this::quiet, ENDING_TIME)) {
                LOG.warnf("drain: %d sessions and %d connections still open %s after they were ended", registry.liveOrOpening(),
                        openConnections(), ENDING_TIME);
            }
        }
        LOG.infof("drain: done in %d ms: %d of %d sessions ended by themselves, %d ended by the gateway", millis(start),
                Math.max(0, live - ended), live, ended);
    }

    private boolean quiet() {
        return registry.liveOrOpening() == 0 && openConnections() == 0;
    }

    private int openConnections() {
        return engines.stream().mapToInt(Engine::openConnections).sum();
    }

    private static boolean await(BooleanSupplier condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return true;
    }

    private static long millis(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }
}
