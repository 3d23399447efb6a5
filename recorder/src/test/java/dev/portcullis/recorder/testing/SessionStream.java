package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Many concurrent sessions published as a gateway would, in the background: their events interleaved, one round
 * (the next event of every session) every {@code pace}, through an idempotent acks=all producer that keeps
 * retrying while the broker is away (as the gateway's journal would), so a fault can strike mid-stream.
 */
public final class SessionStream implements AutoCloseable {
    private final Map<UUID, List<SessionEvent>> sessions;
    private final List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    private final KafkaProducer<String, byte[]> producer;
    private final AtomicInteger sent = new AtomicInteger();
    private final ConcurrentLinkedQueue<Exception> failures = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private final CountDownLatch released = new CountDownLatch(1);
    private final int held;

    /** Publishes everything without a pause. */
    public SessionStream(String bootstrap, String topic, int sessionCount, int statements) {
        this(bootstrap, topic, sessionCount, statements, Duration.ZERO, Integer.MAX_VALUE);
    }

    /**
     * @param statements per session; each session has {@code 2 + statements + (statements - denied)} events
     * @param holdAfter  rounds published before the stream waits for {@link #release()}: what is stored before a fault
     */
    public SessionStream(String bootstrap, String topic, int sessionCount, int statements, Duration pace, int holdAfter) {
        Map<UUID, List<SessionEvent>> byId = new LinkedHashMap<>();
        Instant start = Instant.now();
        for (int i = 0; i < sessionCount; i++) {
            UUID id = UUID.randomUUID();
            byId.put(id, SessionScript.session(id, start, statements));
        }
        this.sessions = Map.copyOf(byId);
        int rounds = byId.values().iterator().next().size();
        List<Integer> roundEnds = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (List<SessionEvent> events : byId.values()) {
                SessionEvent e = events.get(round);
                records.add(new ProducerRecord<>(topic, e.sessionId().toString(), SessionEvents.toJson(e)));
            }
            roundEnds.add(records.size());
        }
        this.held = holdAfter < roundEnds.size() ? roundEnds.get(holdAfter - 1) : records.size();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        thread = new Thread(() -> {
            try {
                int next = 0;
                int round = 0;
                for (int end : roundEnds) {
                    if (round++ == holdAfter) {
                        producer.flush();
                        released.await();
                    }
                    for (; next < end; next++) {
                        producer.send(records.get(next), (metadata, e) -> {
                            if (e != null) {
                                failures.add(e);
                            }
                        });
                        sent.incrementAndGet();
                    }
                    Thread.sleep(pace.toMillis());
                }
                producer.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }, "session-stream");
        thread.setDaemon(true);
        thread.start();
    }

    public Map<UUID, List<SessionEvent>> sessions() {
        return sessions;
    }

    public int size() {
        return records.size();
    }

    /** Events handed to the producer so far (not necessarily acknowledged yet). */
    public int sent() {
        return sent.get();
    }

    /** Events published before the hold. */
    public int held() {
        return held;
    }

    /** Publishes the rest of the stream, and returns once at least one more round is handed to the producer. */
    public void release() throws InterruptedException {
        released.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sent() < held + sessions.size() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    public boolean publishing() {
        return thread.isAlive();
    }

    /** Waits until every event is acknowledged by Kafka; fails if any was not. */
    public void awaitPublished(Duration timeout) throws InterruptedException {
        thread.join(timeout.toMillis());
        if (thread.isAlive()) {
            throw new AssertionError("the events were not all acknowledged by Kafka within " + timeout);
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("Kafka did not take every event: " + failures.peek(), failures.peek());
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        producer.close(Duration.ofSeconds(5));
    }

    /** Polls until the condition holds, or fails after the timeout with what it waited for. */
    public static void await(String what, Duration timeout, Check condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    @FunctionalInterface
    public interface Check {
        boolean holds() throws Exception;
    }
}
