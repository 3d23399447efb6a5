package dev.portcullis.recorder.recording;

import dev.portcullis.recorder.RecorderConfig;
import dev.portcullis.recorder.health.ConsumerProgress;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stores each poll of session events. A poll is cut into slices of bounded size (events and bytes), stored one after
 * the other, the next one read while one is written: per slice ONE S3 object (a gzip member per session's run) and then the index rows of all its sessions
 * in one PostgreSQL transaction ({@link RunWriter}), or parked ({@link StoreOrPark}). The poll is acknowledged (and
 * its offsets become committable) only when every slice is stored or parked, so a crash at any point means
 * redelivery, and redelivery is harmless: events at or below a session's stored chain end are skipped.
 */
@ApplicationScoped
public class SessionEventConsumer {
    private static final Logger LOG = Logger.getLogger(SessionEventConsumer.class);
    private final StoreOrPark storing;
    private final ConsumerProgress progress;
    private final int maxEvents;
    private final int maxBytes;
    /** Reads the slice after the one being written; one at a time, so at most two slices are in memory. */
    private final ExecutorService reader = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "recorder-slice-reader");
        thread.setDaemon(true);
        return thread;
    });

    SessionEventConsumer(StoreOrPark storing, ConsumerProgress progress, RecorderConfig config) {
        this.storing = storing;
        this.progress = progress;
        this.maxEvents = config.batch().maxEvents();
        this.maxBytes = config.batch().maxBytes();
    }

    void stopping(@Observes ShutdownEvent shutdown) {
        storing.stop(); // a slice that waits for a retry is left for redelivery
        reader.shutdownNow();
    }

    @Incoming("session-events")
    @Blocking // S3 and PostgreSQL calls block; polls stay in order (ordered by default)
    public void consume(ConsumerRecords<String, byte[]> poll) throws InterruptedException {
        List<List<ConsumerRecord<String, byte[]>>> slices = slices(poll);
        // a two-stage pipeline: the next slice is read (JSON, on the reader thread and the common pool) while this one
        // is written (S3, then PostgreSQL, which works in a process of its own)
        Future<DeliveredBatch> next = reader.submit(() -> read(slices.get(0)));
        for (int i = 0; i < slices.size(); i++) {
            DeliveredBatch slice = result(next);
            if (i + 1 < slices.size()) {
                List<ConsumerRecord<String, byte[]>> following = slices.get(i + 1);
                next = reader.submit(() -> read(following));
            }
            storing.store(slice);
            progress.stored();
        }
    }

    /** The poll in slices of at most {@code max-events} events and {@code max-bytes} bytes, in order. */
    private List<List<ConsumerRecord<String, byte[]>>> slices(ConsumerRecords<String, byte[]> poll) {
        List<List<ConsumerRecord<String, byte[]>>> slices = new ArrayList<>();
        List<ConsumerRecord<String, byte[]>> slice = new ArrayList<>();
        int events = 0;
        long bytes = 0;
        for (ConsumerRecord<String, byte[]> record : poll) {
            int recordEvents = lines(record.value());
            int recordBytes = record.value() == null ? 0 : record.value().length;
            if (!slice.isEmpty() && (events + recordEvents > maxEvents || bytes + recordBytes > maxBytes)) {
                slices.add(slice);
                slice = new ArrayList<>();
                events = 0;
                bytes = 0;
            }
            slice.add(record);
            events += recordEvents;
            bytes += recordBytes;
        }
        if (!slice.isEmpty() || slices.isEmpty()) {
            slices.add(slice);
        }
        return slices;
    }

    private static DeliveredBatch read(List<ConsumerRecord<String, byte[]>> records) {
        long t0 = System.nanoTime();
        DeliveredBatch slice = DeliveredBatch.read(records);
        if (LOG.isDebugEnabled()) {
            LOG.debugf("slice of %d records, %d events of %d sessions read in %d ms", records.size(), slice.lines(),
                    slice.sessions().size(), (System.nanoTime() - t0) / 1_000_000);
        }
        return slice;
    }

    private static DeliveredBatch result(Future<DeliveredBatch> read) throws InterruptedException {
        try {
            return read.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Events in a record: its lines (JSON Lines, a final line break allowed). */
    private static int lines(byte[] value) {
        if (value == null || value.length == 0) {
            return 1;
        }
        int lines = 0;
        for (byte b : value) {
            if (b == '\n') {
                lines++;
            }
        }
        return value[value.length - 1] == '\n' ? lines : lines + 1;
    }
}
