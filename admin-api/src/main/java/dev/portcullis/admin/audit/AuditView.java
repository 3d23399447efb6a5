package dev.portcullis.admin.audit;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One audit entry as the API returns it. Its details never hold a secret: the audit is written without them. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AuditView(
        long id,
        OffsetDateTime at,
        @Schema(description = "The caller's subject (from their token), '(anonymous)' for a call without a valid token,"
                + " or 'db:<role>' for a change made in SQL, not through the API.")
        String actorSubject,
        String actorName,
        @Schema(examples = "connection.update")
        String action,
        @Schema(examples = "connection/orders-prod")
        String target,
        @Schema(description = "Outcome, source address, reason, and what changed (before/after without secrets).")
        Map<String, Object> details) {

    static AuditView of(AdminAuditEntry e) {
        return new AuditView(e.id, e.at, e.actorSubject, e.actorName, e.action, e.target,
                e.details == null ? Map.of() : e.details);
    }
}
