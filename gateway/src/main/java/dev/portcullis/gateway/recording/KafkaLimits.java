package dev.portcullis.gateway.recording;

import dev.portcullis.gateway.GatewayConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * The sizes the session-event records must fit, set in one place and checked at start-up: the producer's
 * {@code max.request.size} is checked at once (a gateway whose producer refuses its own records does not start), the
 * topic's {@code max.message.bytes} once Kafka answers (it may be away at start-up; a topic that is too small is
 * logged and reported by the recording health check, and what it refuses is parked). Also tells which send failures
 * retrying cannot fix.
 */
@ApplicationScoped
public class KafkaLimits {
    private static final Logger LOG = Logger.getLogger(KafkaLimits.class);
    private static final String CHANNEL = "mp.messaging.outgoing.session-events.";
    /** Room for a record batch's own header and a record's key and headers. */
    static final int OVERHEAD_BYTES = 4096;
    /** A one-record batch's header and the record's own framing, at most (Kafka's v2 record format). */
    static final int RECORD_OVERHEAD_BYTES = 128;
    private static final long CHECK_EVERY_MS = 30_000;

    private final String topic;
    private final String bootstrap;
    private final int maxRequestSize;
    private volatile Integer topicMaxMessageBytes;
    private volatile String problem;
    private volatile boolean stopped;
    private Thread checker;

    KafkaLimits(GatewayConfig config) {
        var mp = ConfigProvider.getConfig();
        this.topic = config.recording().topic();
        this.bootstrap = mp.getOptionalValue("kafka.bootstrap.servers", String.class).orElse("localhost:9092");
        this.maxRequestSize = mp.getOptionalValue(CHANNEL + "max.request.size", Integer.class).orElse(1024 * 1024);
    }

    /** Fails start-up when the producer could not send a record of {@code maxRecordBytes}. */
    void requireProducerTakes(int maxRecordBytes) {
        if (maxRequestSize < maxRecordBytes + OVERHEAD_BYTES) {
            throw new IllegalStateException(CHANNEL + "max.request.size is " + maxRequestSize + " bytes, but a session-event"
                    + " record may be " + maxRecordBytes + " bytes; set it to at least " + (maxRecordBytes + OVERHEAD_BYTES));
        }
    }

    /** The topic's limit, once read; null before Kafka answered. */
    Integer topicMaxMessageBytes() {
        return topicMaxMessageBytes;
    }

    /** What is wrong with the limits, or null. */
    String problem() {
        return problem;
    }

    void start(@Observes StartupEvent event) {
        checker = new Thread(this::checkTopicUntilKnown, "portcullis-kafka-limits");
        checker.setDaemon(true);
        checker.start();
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        if (checker != null) {
            checker.interrupt();
        }
    }

    private void checkTopicUntilKnown() {
        while (!stopped && topicMaxMessageBytes == null) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    AdminClientConfig.CLIENT_ID_CONFIG, "portcullis-gateway-limits",
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000,
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000))) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                Config config = admin.describeConfigs(List.of(resource)).all().get(15, TimeUnit.SECONDS).get(resource);
                ConfigEntry entry = config.get("max.message.bytes");
                int limit = Integer.parseInt(entry.value());
                topicMaxMessageBytes = limit;
                if (limit < SessionRecorder.MAX_RECORD_BYTES + OVERHEAD_BYTES) {
                    problem = "Kafka topic " + topic + " takes messages of at most " + limit + " bytes (max.message.bytes), but"
                            + " the gateway sends records of up to " + SessionRecorder.MAX_RECORD_BYTES + " bytes: the broker will"
                            + " refuse them and the gateway parks them; raise the topic's max.message.bytes to at least "
                            + (SessionRecorder.MAX_RECORD_BYTES + OVERHEAD_BYTES);
                    LOG.error(problem);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.debugf("cannot read the limits of Kafka topic %s yet: %s", topic, e.toString());
                try {
                    Thread.sleep(CHECK_EVERY_MS);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** Whether Kafka refused a record for a reason that retrying cannot fix: the record itself is the problem. */
    static boolean refusedForGood(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException
                    || t instanceof InvalidRecordException || t instanceof CorruptRecordException
                    || t instanceof SerializationException) {
                return true;
            }
        }
        return false;
    }
}
