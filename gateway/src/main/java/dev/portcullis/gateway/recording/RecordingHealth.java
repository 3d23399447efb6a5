package dev.portcullis.gateway.recording;

import io.smallrye.health.api.Wellness;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * Whether every recorded event is on its way to Kafka (GET /q/health/well): DOWN while records sit in the journal's
 * dead-letter segment, or while the session-events topic is too small for the gateway's records. A wellness check,
 * not a readiness one: the gateway keeps serving (every event is still journaled), and an operator looks.
 */
@Wellness
@ApplicationScoped
public class RecordingHealth implements HealthCheck {
    private final SessionRecorder recorder;
    private final KafkaLimits limits;

    RecordingHealth(SessionRecorder recorder, KafkaLimits limits) {
        this.recorder = recorder;
        this.limits = limits;
    }

    @Override
    public HealthCheckResponse call() {
        SessionRecorder.Status s = recorder.status();
        var response = HealthCheckResponse.named("session recording")
                .withData("journal_dir", s.journalDir().toString())
                .withData("journal_bytes", s.journalBytes())
                .withData("parked_records", s.parkedRecords());
        if (s.lastAcknowledged() != null) {
            response.withData("kafka_last_acknowledged", s.lastAcknowledged().toString());
        }
        if (s.lastFailure() != null) {
            response.withData("kafka_last_failure", s.lastFailure());
        }
        if (limits.topicMaxMessageBytes() != null) {
            response.withData("topic_max_message_bytes", limits.topicMaxMessageBytes());
        }
        if (limits.problem() != null) {
            return response.down().withData("problem", limits.problem()).build();
        }
        if (s.parkedRecords() > 0) {
            return response.down().withData("problem", s.parkedRecords() + " records Kafka refused are parked in "
                    + s.journalDir().resolve("parked.dlq") + "; fix the cause, then restart with portcullis.recording.resend-parked=true").build();
        }
        return response.up().build();
    }
}
