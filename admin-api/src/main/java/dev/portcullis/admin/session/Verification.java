package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.contract.events.ChainVerifier;
import java.util.UUID;

/**
 * The result of recomputing a session's hash chain from S3 against PostgreSQL.
 *
 * @param verified       events that verified, from seq 1 on
 * @param firstBrokenSeq the first event that does not verify; {@code null} when ok
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Verification(UUID sessionId, boolean ok, long events, long verified, Long firstBrokenSeq, String problem) {

    static Verification of(UUID sessionId, long events, ChainVerifier.Outcome outcome) {
        return new Verification(sessionId, outcome.ok(), events, outcome.verified(), outcome.firstBrokenSeq(), outcome.problem());
    }
}
