package dev.portcullis.gateway.recording;

import dev.portcullis.contract.events.EventBody;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.gateway.GatewayConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import net.jpountz.lz4.LZ4Factory;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

/**
 * Ships session events to Kafka ({@code portcullis.session-events}, keyed by session id) through a SmallRye
 * {@link Emitter}, with the {@link EventJournal} in front. Events are taken in batches (a group commit of up to 10 ms);
 * a session's events of one batch become one record (JSON Lines, see contract/EVENTS.md) of at most
 * {@link #MAX_RECORD_BYTES}, which is appended and forced to disk first (one fsync per batch), then sent, in journal
 * order, with a bounded number in flight; it leaves the journal once Kafka acknowledged it and everything before it.
 *
 * <p>What cannot be sent does not hold up what follows it. A record Kafka refuses for a reason retrying cannot fix
 * (too large for the broker, corrupt) is parked in the journal's dead-letter segment ({@link ParkedRecords}), counted,
 * and the journal moves on; so is an event larger than {@link EventBounds#MAX_EVENT_BYTES}, which only a bug can
 * build. Any other failure (Kafka away) is retried from the first unacknowledged record, with a growing pause, while
 * the journal fills; when it is nearly full, new requests are refused (see {@link #accepting()}). So Kafka may see an
 * event twice (the recorder keeps it once) but none is lost.
 *
 * <p>Callers on any thread hand events to {@link #record}; one thread owns the journal and the sending.
 */
@ApplicationScoped
public class SessionRecorder {
    private static final Logger LOG = Logger.getLogger(SessionRecorder.class);
    private static final int WINDOW = 1024;
    private static final int BATCH = 4096;
    /**
     * A Kafka record holds a session's events up to this size. Every event is smaller ({@link EventBounds}), so no
     * record is larger; {@link KafkaLimits} checks at start-up that the producer and the topic take it.
     */
    static final int MAX_RECORD_BYTES = 256 * 1024;
    /**
     * How long the first event of a batch waits for others before the batch is forced to disk: one fsync per
     * interval at most, however many events arrive (fsync is expensive, and per event it would steal the cores).
     */
    private static final long GROUP_COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final long FIRST_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAX_RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long RETRY_LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** An event as the session handed it over: serialised on the shipper thread, off the event loops. */
    private record Event(UUID sessionId, long seq, Instant at, Supplier<EventBody> body) {
    }

    private record Acked(long index, int events, boolean ok, Throwable failure) {
    }

    private final Emitter<byte[]> emitter;
    private final EventJournal journal;
    private final ParkedRecords parked;
    private final KafkaLimits limits;
    private final Path journalDir;
    private final boolean refuseWhenFull;
    private final long refuseAtBytes;
    /**
     * Events and acknowledgements for the shipper. Lock-free and never signalled: adding an event costs the
     * session's event loop no wake-up of another thread; the shipper looks every {@link #IDLE_PARK_NANOS}.
     */
    private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
    private final Thread shipper;
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong journaled = new AtomicLong();
    private final AtomicLong journalBytes = new AtomicLong();
    private final AtomicLong appendedBytes = new AtomicLong();
    private final AtomicLong parkedRecords = new AtomicLong();
    private volatile Instant lastAcknowledged;
    private volatile String lastFailure;

    // owned by the shipper thread
    private long nextToSend;
    private long ackedBefore;
    private final TreeSet<Long> ackedAhead = new TreeSet<>();
    private int inFlight;
    private boolean resendPending;
    private long retryDelayNanos;
    private long resendAtNanos;
    private long lastRetryLogNanos;
    private long failedSends;
    private final List<EventJournal.Entry> recent = new ArrayList<>();
    private final Map<Identity, EventBounds.Written> writtenDetails = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Identity, EventBounds.Written> eldest) {
            return size() > 1024;
        }
    };

    SessionRecorder(GatewayConfig config, @Channel("session-events") @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER) Emitter<byte[]> emitter,
            KafkaLimits limits, MeterRegistry metrics) {
        this.emitter = emitter;
        this.limits = limits;
        LOG.debugf("Kafka compresses the session events with %s", preferNativeLz4());
        this.refuseWhenFull = config.recording().refuseWhenFull();
        this.refuseAtBytes = config.recording().journalMaxBytes() / 10 * 9;
        limits.requireProducerTakes(MAX_RECORD_BYTES);
        journalDir = config.recording().journalDir().orElse(
                Path.of(System.getProperty("java.io.tmpdir"), "portcullis-journal-" + config.postgres().port()));
        EventJournal opened = null;
        try {
            opened = new EventJournal(journalDir, config.recording().journalMaxBytes(), 16L << 20);
            this.parked = new ParkedRecords(journalDir);
            this.journal = opened;
        } catch (IOException e) {
            closeQuietly(opened);
            throw new UncheckedIOException("cannot open the event journal: " + e.getMessage(), e);
        }
        if (config.recording().resendParked()) {
            resendParked();
        }
        parkedRecords.set(parked.count());
        if (parked.count() > 0) {
            LOG.warnf("the event journal %s holds %d parked records that Kafka refused; fix the cause, then restart with"
                    + " portcullis.recording.resend-parked=true to send them again", journalDir, parked.count());
        }
        this.nextToSend = journal.firstIndex();
        this.ackedBefore = journal.firstIndex();
        journalBytes.set(journal.bytes());
        if (journal.nextIndex() > journal.firstIndex()) {
            LOG.infof("event journal %s holds %d records of events not yet acknowledged by Kafka; sending them first", journalDir,
                    journal.nextIndex() - journal.firstIndex());
        }
        Gauge.builder("portcullis.recording.journal.bytes", journalBytes, AtomicLong::get)
                .description("Bytes of session events in the journal, waiting for Kafka").register(metrics);
        Gauge.builder("portcullis.recording.journal.appended.bytes", appendedBytes, AtomicLong::get)
                .description("Bytes appended to the journal since start, records with their headers: what recording writes")
                .register(metrics);
        Gauge.builder("portcullis.recording.events.journaled", journaled, AtomicLong::get)
                .description("Events written to the journal since start").register(metrics);
        Gauge.builder("portcullis.recording.events.acknowledged", acknowledged, AtomicLong::get)
                .description("Events Kafka acknowledged since start").register(metrics);
        Gauge.builder("portcullis.recording.events.dropped", dropped, AtomicLong::get)
                .description("Events not recorded because the journal was full and refuse-when-full is off").register(metrics);
        Gauge.builder("portcullis.recording.parked.records", parkedRecords, AtomicLong::get)
                .description("Records in the journal's dead-letter segment: refused by Kafka for good, kept, not sent").register(metrics);
        shipper = new Thread(this::ship, "portcullis-recording");
        shipper.setDaemon(true);
        shipper.start();
    }

    private static void closeQuietly(EventJournal journal) {
        if (journal != null) {
            try {
                journal.close();
            } catch (IOException e) {
                LOG.debugf("closing the event journal: %s", e.getMessage());
            }
        }
    }

    /** Parked records go back to the end of the journal, to be sent again (their cause is said to be fixed). */
    private void resendParked() {
        List<ParkedRecords.Parked> all = parked.takeAll();
        for (ParkedRecords.Parked p : all) {
            journal.append(p.key(), p.value());
        }
        journal.sync();
        LOG.infof("resending %d parked records of the event journal %s", all.size(), journalDir);
    }

    /** False when the journal is full and requests must be refused, so nothing runs unrecorded. */
    public boolean accepting() {
        return accepting || !refuseWhenFull;
    }

    /** What the recording health check reports. */
    record Status(long journalBytes, long parkedRecords, Path journalDir, Instant lastAcknowledged, String lastFailure) {
    }

    Status status() {
        return new Status(journalBytes.get(), parkedRecords.get(), journalDir, lastAcknowledged, lastFailure);
    }

    /**
     * The LZ4 implementation Kafka's producer will use. lz4-java looks for its native code only once it is loaded or
     * when its classes come from the JVM's system class loader; under Quarkus they do not, so the producer compressed
     * with the pure-Java implementation (8 % of the enforced gateway's CPU samples under {@code -M simple}). Loading
     * the native one first makes it the fastest. It only compresses the gateway's own events; nothing received is
     * decompressed with it. Without it (another platform) the Java implementation stays.
     */
    private static String preferNativeLz4() {
        try {
            LZ4Factory.nativeInstance();
        } catch (RuntimeException | LinkageError e) { // no native library for this platform
            LOG.debugf("no native LZ4 (%s), Kafka's batches are compressed in Java", e.toString());
        }
        return LZ4Factory.fastestInstance().toString();
    }

    /**
     * A request's details as bounded JSON, written once per instance and then reused: a session passes the same
     * instance for a repeated request (the one its decision memo holds; for PostgreSQL the same statement shape,
     * whatever the literals), so it is not converted or written again. The cache holds the JSON, not the tree, which
     * takes several times its size. Keyed by identity: equal values hashed and compared on every event cost
     * more than the conversion saved. Shipper thread only: call it from an event's body supplier.
     */
    EventBounds.Written details(Object details) {
        return writtenDetails.computeIfAbsent(new Identity(details), d -> EventBounds.details(details).written());
    }

    /** A key equal only to a key of the same instance: hashing and comparing it cost nothing, whatever the value. */
    private record Identity(Object referent) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Identity i && i.referent == referent;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(referent);
        }
    }

    /**
     * Queues one event; it is journaled and sent in the order of calls. The body is built and serialised later,
     * on the shipper thread, so it must only read values that no longer change.
     */
    public void record(UUID sessionId, long seq, Instant at, Supplier<EventBody> body) {
        inbox.add(new Event(sessionId, seq, at, body));
    }

    private void ship() {
        List<Object> batch = new ArrayList<>();
        while (running || !inbox.isEmpty()) {
            try {
                drain(batch);
                if (batch.isEmpty()) {
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    send();
                    continue;
                }
                if (batch.stream().anyMatch(o -> o instanceof Event)) {
                    // group commit: let the batch fill for a moment, then one write and one fsync for all of it
                    long until = System.nanoTime() + GROUP_COMMIT_NANOS;
                    while (batch.size() < BATCH && System.nanoTime() - until < 0) {
                        LockSupport.parkNanos(IDLE_PARK_NANOS);
                        drain(batch);
                    }
                }
                journalBatch(batch);
                batch.clear();
                send();
            } catch (RuntimeException e) {
                LOG.errorf(e, "session recording: %s", e.getMessage());
                accepting = false;
                LockSupport.parkNanos(FIRST_RETRY_NANOS);
            }
        }
    }

    private void drain(List<Object> batch) {
        Object o;
        while (batch.size() < BATCH && (o = inbox.poll()) != null) {
            batch.add(o);
        }
    }

    private void journalBatch(List<Object> batch) {
        // A session's events of this batch go to Kafka as one record (JSON Lines, up to MAX_RECORD_BYTES): a record
        // per event cost the brokers, and the producer's per-record work here, more CPU than the statements recorded.
        Map<UUID, Lines> records = new LinkedHashMap<>();
        for (Object o : batch) {
            if (o instanceof Acked a) {
                onAck(a);
            } else if (o instanceof Event e) {
                byte[] value = serialise(e);
                if (value == null) {
                    continue;
                }
                Lines record = records.get(e.sessionId());
                if (record != null && record.bytes.size() + 1 + value.length > MAX_RECORD_BYTES) {
                    append(e.sessionId(), record);
                    record = null;
                }
                if (record == null) {
                    record = new Lines(value.length);
                    records.put(e.sessionId(), record);
                }
                record.add(value);
            }
        }
        boolean appended = !records.isEmpty();
        records.forEach(this::append);
        if (appended) {
            journal.sync();
        }
        journal.acknowledgedBefore(ackedBefore);
        journalBytes.set(journal.bytes());
        // Requests are refused a little before the journal is full, so the events of what already runs still fit.
        accepting = journal.bytes() < refuseAtBytes;
    }

    /** The event's wire form, or null when it cannot be sent (it is then parked, or missing for a bug, and logged). */
    private byte[] serialise(Event e) {
        byte[] value;
        try {
            value = SessionEvents.toWire(new SessionEvent(e.sessionId(), e.seq(), e.at(), e.body().get()));
        } catch (RuntimeException bug) {
            // a gap the recording's verify will show, rather than a recorder stuck on one event
            LOG.errorf(bug, "session recording: cannot write event %d of session %s; it is missing from the recording", e.seq(), e.sessionId());
            dropped.incrementAndGet();
            return null;
        }
        if (value.length > EventBounds.MAX_EVENT_BYTES) {
            park(e.sessionId().toString(), value, "event " + e.seq() + " is " + value.length + " bytes; the gateway sends at most "
                    + EventBounds.MAX_EVENT_BYTES);
            return null;
        }
        return value;
    }

    /** A record being built: a session's events, one per line, and how many. */
    private static final class Lines {
        final ByteArrayOutputStream bytes;
        int events;

        Lines(int firstEventBytes) {
            bytes = new ByteArrayOutputStream(Math.max(256, Math.min(MAX_RECORD_BYTES, firstEventBytes * 4)));
        }

        void add(byte[] event) {
            if (events++ > 0) {
                bytes.write('\n');
            }
            bytes.writeBytes(event);
        }
    }

    /** One record of a session's events into the journal, or counted as dropped when the journal is full. */
    private void append(UUID sessionId, Lines record) {
        if (journal.full()) {
            dropped.addAndGet(record.events);
            return;
        }
        byte[] value = record.bytes.toByteArray();
        String key = sessionId.toString();
        long before = journal.bytes();
        long index = journal.append(key, value);
        appendedBytes.addAndGet(journal.bytes() - before);
        journaled.addAndGet(record.events);
        if (recent.size() < 2 * WINDOW && (recent.isEmpty() || recent.get(recent.size() - 1).index() == index - 1)) {
            recent.add(new EventJournal.Entry(index, key, value, record.events));
        }
    }

    private void park(String key, byte[] value, String reason) {
        parked.park(key, value, reason);
        parkedRecords.set(parked.count());
        LOG.errorf("session recording: parked a record of session %s (%s); it is kept in %s, not sent, and the events behind"
                + " it go on", key, reason, journalDir.resolve("parked.dlq"));
    }

    /**
     * The events in a record: as counted when it was written, else one per line (a record read back from the journal
     * carries no count; counting its lines is a pass over every byte, which sending every record did before).
     */
    private static int events(EventJournal.Entry entry) {
        if (entry.events() >= 0) {
            return entry.events();
        }
        int lines = 1;
        for (byte b : entry.value()) {
            if (b == '\n') {
                lines++;
            }
        }
        return lines;
    }

    private void onAck(Acked a) {
        inFlight--;
        if (!a.ok()) {
            if (KafkaLimits.refusedForGood(a.failure()) && a.index() >= ackedBefore) {
                // retrying cannot help: keep it aside and go on, instead of resending it (and all behind it) forever
                EventJournal.Entry entry = journal.read(a.index(), 1).get(0);
                park(entry.key(), entry.value(), "Kafka refused record " + a.index() + ": " + a.failure());
                acknowledge(a.index());
                return;
            }
            failedSends++;
            lastFailure = String.valueOf(a.failure());
            resendPending = true;
            return;
        }
        acknowledged.addAndGet(a.events());
        lastAcknowledged = Instant.now();
        retryDelayNanos = 0;
        acknowledge(a.index());
    }

    private void acknowledge(long index) {
        if (index == ackedBefore) {
            ackedBefore++;
            while (!ackedAhead.isEmpty() && ackedAhead.first() == ackedBefore) {
                ackedAhead.pollFirst();
                ackedBefore++;
            }
        } else if (index > ackedBefore) {
            ackedAhead.add(index);
        }
    }

    private void send() {
        if (resendPending) {
            if (inFlight > 0) {
                return; // let what is in flight settle, then start again from the first unacknowledged
            }
            if (resendAtNanos == 0) {
                retryDelayNanos = retryDelayNanos == 0 ? FIRST_RETRY_NANOS : Math.min(MAX_RETRY_NANOS, retryDelayNanos * 2);
                resendAtNanos = System.nanoTime() + retryDelayNanos;
                logRetry();
            }
            if (System.nanoTime() - resendAtNanos < 0) {
                return; // the journal keeps taking events meanwhile
            }
            resendPending = false;
            resendAtNanos = 0;
            nextToSend = ackedBefore; // what was acknowledged (or parked) ahead of it is skipped below
        }
        while (inFlight < WINDOW && nextToSend < journal.syncedIndex()) {
            List<EventJournal.Entry> entries = fromMemory(nextToSend, WINDOW - inFlight);
            if (entries.isEmpty()) {
                entries = journal.read(nextToSend, WINDOW - inFlight);
                if (entries.isEmpty()) {
                    return;
                }
            }
            for (EventJournal.Entry e : entries) {
                if (!ackedAhead.contains(e.index())) {
                    if (tooLargeForTopic(e)) {
                        park(e.key(), e.value(), "record " + e.index() + " is " + e.value().length + " bytes, more than the"
                                + " topic's max.message.bytes (" + limits.topicMaxMessageBytes() + ")");
                        acknowledge(e.index());
                    } else {
                        emit(e);
                        inFlight++;
                    }
                }
                nextToSend = e.index() + 1;
            }
        }
        // what is sent no longer needs to stay in memory
        recent.removeIf(e -> e.index() < nextToSend);
    }

    /**
     * Whether the broker is known to refuse this record (the topic's limit, once read): it is parked without a send.
     * Sending it anyway would have the producer split its batch and retry until the delivery timeout, and every record
     * batched with it would fail too.
     */
    private boolean tooLargeForTopic(EventJournal.Entry e) {
        Integer topicLimit = limits.topicMaxMessageBytes();
        return topicLimit != null && e.value().length + e.key().length() + KafkaLimits.RECORD_OVERHEAD_BYTES > topicLimit;
    }

    /** One line at the first failure and then at most one a minute, however many sends fail. */
    private void logRetry() {
        long now = System.nanoTime();
        if (lastRetryLogNanos != 0 && now - lastRetryLogNanos < RETRY_LOG_EVERY_NANOS) {
            return;
        }
        lastRetryLogNanos = now;
        LOG.warnf("session recording: Kafka did not take %d sends so far (last: %s); the journal keeps every event (%d bytes)"
                + " and sends again from record %d in %d ms", failedSends, lastFailure, journal.bytes(), ackedBefore,
                TimeUnit.NANOSECONDS.toMillis(retryDelayNanos));
    }

    private List<EventJournal.Entry> fromMemory(long from, int max) {
        if (recent.isEmpty() || recent.get(0).index() > from) {
            return List.of();
        }
        int start = (int) (from - recent.get(0).index());
        if (start >= recent.size()) {
            return List.of();
        }
        return new ArrayList<>(recent.subList(start, Math.min(recent.size(), start + max)));
    }

    private void emit(EventJournal.Entry e) {
        long index = e.index();
        int events = events(e);
        Message<byte[]> m = Message.of(e.value())
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(e.key()).build())
                .withAck(() -> {
                    inbox.add(new Acked(index, events, true, null));
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(t -> {
                    inbox.add(new Acked(index, events, false, t));
                    return CompletableFuture.completedFuture(null);
                });
        try {
            emitter.send(m);
        } catch (RuntimeException ex) {
            inbox.add(new Acked(index, events, false, ex));
        }
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException, IOException {
        running = false;
        shipper.join(5_000);
        journal.close();
        parked.close();
    }
}
