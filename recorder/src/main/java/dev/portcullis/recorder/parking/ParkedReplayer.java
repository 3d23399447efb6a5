package dev.portcullis.recorder.parking;

import static dev.portcullis.recorder.storage.Sql.await;

import dev.portcullis.contract.events.CanonicalEvent;
import dev.portcullis.contract.events.InvalidEventException;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.health.ParkedRuns;
import dev.portcullis.recorder.recording.RecordingIndex;
import dev.portcullis.recorder.recording.RunWriter;
import dev.portcullis.recorder.recording.SessionDelivery;
import dev.portcullis.recorder.recording.StoreOrPark;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Replays parked runs once someone asked for it (admin API {@code POST /recordings/parked/{id}/replay}, which sets
 * {@code state = 'replay_requested'}), polling every {@code portcullis.recorder.batch.replay-every}. A run is stored
 * through the normal path and marked replayed in the same transaction; one that still fails stays parked with the new
 * error. A session's runs go in order: a run waits for the runs of its session parked before it, and the runs
 * quarantined behind a replayed run follow it by themselves. One recorder replica replays at a time (an advisory
 * lock), so replicas never replay a run twice.
 */
@ApplicationScoped
public class ParkedReplayer {
    private static final Logger LOG = Logger.getLogger(ParkedReplayer.class);
    /** pg_try_advisory_lock key: "portcullis replay". */
    private static final long LOCK = 0x706f7274_7265706cL;
    private static final int PAGE = 100;
    /** Pages per round: a round is bounded even if replays keep finding more to do. */
    private static final int MAX_PAGES = 20;

    private final ParkedStore parked;
    private final RecordingIndex index;
    private final RunWriter writer;
    private final StoreOrPark storing;
    private final ParkedRuns health;
    private final Pool pool;
    private final RecorderConfig config;
    private volatile boolean stopping;

    ParkedReplayer(ParkedStore parked, RecordingIndex index, RunWriter writer, StoreOrPark storing, ParkedRuns health,
            Pool pool, RecorderConfig config) {
        this.parked = parked;
        this.index = index;
        this.writer = writer;
        this.storing = storing;
        this.health = health;
        this.pool = pool;
        this.config = config;
    }

    void stopping(@Observes ShutdownEvent shutdown) {
        stopping = true;
    }

    void schedule(@Observes StartupEvent startup, Scheduler scheduler) {
        scheduler.newJob("recorder-parked-replay")
                .setInterval(config.batch().replayEvery().toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> {
                    try {
                        replayPending();
                    } catch (RuntimeException e) {
                        if (!stopping) {
                            LOG.warnf("replay of parked runs stopped early; the next round goes on: %s", e.getMessage());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })
                .schedule();
    }

    /** @return how many parked runs were replayed */
    public int replayPending() throws InterruptedException {
        SqlConnection lock = await(pool.getConnection());
        try {
            if (!await(lock.query("SELECT pg_try_advisory_lock(" + LOCK + ")").execute()).iterator().next().getBoolean(0)) {
                return 0; // another replica replays
            }
            try {
                return replayRound();
            } finally {
                // the connection goes back to the pool, its session (and so a lock it holds) goes on
                await(lock.query("SELECT pg_advisory_unlock(" + LOCK + ")").execute());
            }
        } finally {
            lock.closeAndAwait();
        }
    }

    /** Pages of replays until one replays nothing (a replay can free the runs quarantined behind it). */
    private int replayRound() throws InterruptedException {
        int replayed = 0;
        for (int page = 0; page < MAX_PAGES; page++) {
            int before = replayed;
            for (ParkedStore.Parked run : parked.toReplay(PAGE)) {
                replayed += replay(run) ? 1 : 0;
            }
            if (replayed == before) {
                break;
            }
        }
        if (replayed > 0) {
            health.refresh();
        }
        return replayed;
    }

    private boolean replay(ParkedStore.Parked run) throws InterruptedException {
        Long before = parked.parkedBefore(run);
        if (before != null) {
            return keepParked(run, "it waits for run " + before + " of the same session, parked before it: replay that"
                    + " one first (or all: POST /recordings/parked/replay)");
        }
        Map<UUID, SessionDelivery> bySession = new LinkedHashMap<>();
        for (byte[] line : parked.lines(run)) {
            CanonicalEvent event;
            try {
                event = SessionEvents.canonical(line);
            } catch (InvalidEventException e) {
                return keepParked(run, "still not an event of contract v" + 1 + ": " + e.getMessage());
            }
            bySession.computeIfAbsent(event.sessionId(), id -> new SessionDelivery(id, run.source(), new ArrayList<>()))
                    .events().add(event);
        }
        String why = fitsChain(bySession.values());
        if (why != null) {
            return keepParked(run, why);
        }
        try {
            storing.untilNoOutage("replay of parked run " + run.id(), () ->
                    writer.write(List.copyOf(bySession.values()), List.of(run.id()), new RunWriter.Attempts()));
        } catch (RuntimeException e) {
            return keepParked(run, "replay failed: " + e.getMessage());
        }
        LOG.infof("replayed parked run %d (%s, from %s)", run.id(), run.reason().label, run.source());
        return true;
    }

    /**
     * A parked event can be replayed only onto the end of its session's chain: events at or below the chain end must
     * be stored already (a redelivery parked them twice), else the chain has moved on without them.
     */
    private String fitsChain(java.util.Collection<SessionDelivery> sessions) {
        var ends = index.chainEnds(sessions.stream().map(SessionDelivery::sessionId).toList());
        for (SessionDelivery session : sessions) {
            RecordingIndex.ChainEnd end = ends.get(session.sessionId());
            long chainEnd = end == null ? 0 : end.lastSeq();
            List<Long> behind = session.events().stream().map(CanonicalEvent::seq).filter(seq -> seq <= chainEnd).distinct().toList();
            if (!behind.isEmpty() && index.storedCount(session.sessionId(), behind) != behind.size()) {
                return "session " + session.sessionId() + " is stored up to seq " + chainEnd + " without these events, so"
                        + " they can no longer join its chain; they stay here, and verify names them as missing";
            }
        }
        return null;
    }

    private boolean keepParked(ParkedStore.Parked run, String error) {
        parked.keepParked(run.id(), error);
        LOG.warnf("parked run %d stays parked: %s", run.id(), error);
        return false;
    }
}
