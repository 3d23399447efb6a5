package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A recorded session as the API lists it. {@code events} is how many are recorded so far. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record SessionView(UUID id, OffsetDateTime startedAt, OffsetDateTime endedAt, String endReason,
        String identitySubject, String identityName, String connection, String connectionType, String sourceIp,
        String gateway, long events, long requests, long denials, OffsetDateTime lastEventAt) {

    static SessionView of(SessionEntity s) {
        return new SessionView(s.id, s.startedAt, s.endedAt, s.endReason, s.identitySubject, s.identityName,
                s.connectionName, s.connectionType, s.sourceIp, s.gateway, s.lastSeq, s.requests, s.denials, s.lastEventAt);
    }
}
