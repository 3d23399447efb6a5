package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.gateway.Heartbeats;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.contract.Channels;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Ends a live session: the kill request goes out on the gateways' NOTIFY channel ({@link Channels#KILL_SESSION}), in
 * the same transaction as its audit entry, and the replica that holds the session ends it (whatever its protocol).
 */
@ApplicationScoped
public class KillService {
    private final Heartbeats heartbeats;

    KillService(Heartbeats heartbeats) {
        this.heartbeats = heartbeats;
    }

    /** @param gateway the replica that reported the session live, and so was asked to end it */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "KillRequested")
    public record Requested(UUID sessionId, String gateway, String reason, OffsetDateTime requestedAt) {
    }

    public Uni<Requested> kill(UUID id, String reason, Actor actor, String source) {
        return heartbeats.holder(id).chain(gateway -> {
            if (gateway == null) {
                throw new ApiException(409, "session " + id + " is not live on any gateway (GET /sessions/live lists the"
                        + " live ones); it may have ended already");
            }
            Requested requested = new Requested(id, gateway, reason, OffsetDateTime.now());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("reason", reason);
            details.put("gateway", gateway);
            details.put("source", source);
            details.put("outcome", "requested");
            return Panache.withTransaction(() -> AdminAuditEntry.record(actor, "session.kill", "session/" + id, details)
                    .chain(() -> Panache.getSession().chain(db -> db.createNativeQuery("SELECT pg_notify(:channel, :id)")
                            .setParameter("channel", Channels.KILL_SESSION)
                            .setParameter("id", id.toString())
                            .getSingleResult())))
                    .replaceWith(requested);
        });
    }
}
