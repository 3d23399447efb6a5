package dev.portcullis.recorder.recording;

import dev.portcullis.contract.events.CanonicalEvent;
import java.util.List;
import java.util.UUID;

/**
 * The events of one session that one slice of a poll delivered, in the order received (a session's events all come
 * from one partition, in order, but may repeat after a redelivery).
 */
public record SessionDelivery(UUID sessionId, Source source, List<CanonicalEvent> events) {
}
