package dev.portcullis.recorder.testing;

import dev.portcullis.contract.events.Request;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEnded;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.contract.events.SessionStarted;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Session events as gateways publish them under load: many concurrent sessions (each started, then requests with
 * their results, every third denied, then ended and replaced by a new one), and per 10 ms group commit ONE record per
 * session that recorded something, holding its events as JSON Lines, keyed by the session id. Each event is stamped
 * {@code at} when it is built, so {@code stored_at - at} is its recording lag. The producer is configured as the
 * gateway's (acks=all, idempotent, LZ4, linger 20 ms).
 */
public final class GatewayTraffic implements AutoCloseable {
    private final String topic;
    private final int statements;
    private final KafkaProducer<String, byte[]> producer;
    private final List<Session> live = new ArrayList<>();
    private final Map<UUID, Long> published = new HashMap<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private int next;
    private long events;

    private static final class Session {
        final UUID id = UUID.randomUUID();
        final Instant start = Instant.now();
        long seq;
        int statement;
        int denials;
        boolean resultDue;
        boolean ended;
    }

    /**
     * @param concurrent sessions open at once
     * @param statements per session before it ends (then {@code 2 + statements + 2/3 of them} events)
     */
    public GatewayTraffic(String bootstrap, String topic, int concurrent, int statements) {
        this.topic = topic;
        this.statements = statements;
        for (int i = 0; i < concurrent; i++) {
            live.add(new Session());
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 262_144);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L << 20);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * One group commit: {@code count} events, taken round-robin from the open sessions, {@code perRecord} at a time,
     * one record per session.
     */
    public void tick(int count, int perRecord) {
        int left = count;
        while (left > 0) {
            Session s = live.get(next);
            int n = Math.min(perRecord, left);
            ByteArrayOutputStream record = new ByteArrayOutputStream(512 * n);
            for (int i = 0; i < n && !s.ended; i++) {
                record.writeBytes(SessionEvents.toWire(nextEvent(s)));
                record.write('\n');
                left--;
            }
            producer.send(new ProducerRecord<>(topic, s.id.toString(), record.toByteArray()), (metadata, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
            });
            if (s.ended) {
                live.set(next, new Session());
            }
            next = (next + 1) % live.size();
        }
    }

    private SessionEvent nextEvent(Session s) {
        long seq = ++s.seq;
        Instant at = Instant.now();
        events++;
        published.merge(s.id, 1L, Long::sum);
        if (seq == 1) {
            return new SessionEvent(s.id, seq, at, new SessionStarted(
                    new SessionStarted.Identity("agent-bench", "agent-bench", List.of("ci-readonly"), "agent-bench", "machine"),
                    new SessionStarted.Connection("demo-dev", "postgres", Map.of("env", "dev")), "127.0.0.1", "gw-bench"));
        }
        if (s.resultDue) {
            s.resultDue = false;
            return new SessionEvent(s.id, seq, at, Result.postgres(seq - 1, 1, 48, 900,
                    List.of(new Result.MaskedColumn("email", "users", "public", "email", "email", "mask/pii")),
                    List.of(), "SELECT 1", null));
        }
        if (s.statement == statements) {
            s.ended = true;
            return new SessionEvent(s.id, seq, at, new SessionEnded("client_terminate",
                    java.time.Duration.between(s.start, at).toMillis(), statements, s.denials));
        }
        int i = s.statement++;
        boolean allow = i % 3 != 2;
        s.resultDue = allow;
        s.denials += allow ? 0 : 1;
        String sql = allow ? "SELECT email FROM users WHERE id = " + i : "DELETE FROM users WHERE id = " + i;
        return new SessionEvent(s.id, seq, at, Request.postgres("query", SessionEvents.tree(List.of(Map.of(
                "command", allow ? "SELECT" : "DELETE",
                "normalized", allow ? "SELECT email FROM users WHERE id = ?" : "DELETE FROM users WHERE id = ?",
                "tables", List.of(Map.of("name", "users", "access", allow ? "read" : "write"))))), sql,
                new Request.Decision("d-" + seq, allow, allow ? "pg/role-read" : "pg/role-write", "rev-1",
                        allow ? List.of() : List.of("role ci-readonly may only read"), false, 350, "opa")));
    }

    /** Waits until Kafka acknowledged everything; throws if it refused anything. */
    public void flush() {
        producer.flush();
        if (failure.get() != null) {
            throw new IllegalStateException("Kafka did not take every record", failure.get());
        }
    }

    /** Events published so far. */
    public long events() {
        return events;
    }

    /** Events published per session. */
    public Map<UUID, Long> published() {
        return published;
    }

    @Override
    public void close() {
        producer.close();
    }
}
