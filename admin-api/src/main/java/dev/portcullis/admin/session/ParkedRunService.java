package dev.portcullis.admin.session;

import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.Actor;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The recorder's dead-letter store as the admin API sees it: lists parked runs and records replay requests (each
 * audited in its own transaction). The recorder polls for requests and does the replay.
 */
@ApplicationScoped
public class ParkedRunService {

    /** @param open only runs not replayed yet */
    @WithSession
    public Uni<List<ParkedRunView>> list(boolean open, UUID sessionId, int limit) {
        StringBuilder query = new StringBuilder(open ? "state <> :replayed" : "1 = 1");
        Parameters parameters = new Parameters();
        if (open) {
            parameters.and("replayed", ParkedRunEntity.REPLAYED);
        }
        if (sessionId != null) {
            query.append(" AND sessionId = :session");
            parameters.and("session", sessionId);
        }
        return ParkedRunEntity.<ParkedRunEntity>find(query.toString(), Sort.by("id"), parameters).page(Page.ofSize(limit)).list()
                .map(rows -> rows.stream().map(ParkedRunView::of).toList());
    }

    @WithTransaction
    public Uni<ParkedRunView> requestReplay(long id, Actor actor) {
        return ParkedRunEntity.<ParkedRunEntity>findById(id)
                .onItem().ifNull().failWith(() -> ApiException.notFound("parked run " + id + " does not exist;"
                        + " GET /recordings/parked lists them"))
                .chain(run -> {
                    if (ParkedRunEntity.REPLAYED.equals(run.state)) {
                        return Uni.createFrom().failure(ApiException.conflict("parked run " + id + " was replayed at "
                                + run.replayedAt + "; there is nothing left to replay"));
                    }
                    request(run, actor);
                    return AdminAuditEntry.record(actor, "recording.parked.replay", "parked/" + id, details(List.of(run)))
                            .replaceWith(ParkedRunView.of(run));
                });
    }

    /** What a replay-all request did. */
    @Schema(name = "ParkedReplayRequested")
    public record Requested(int requested, List<Long> ids) {
    }

    @WithTransaction
    public Uni<Requested> requestReplayOfAll(Actor actor) {
        return ParkedRunEntity.<ParkedRunEntity>list("state <> ?1", Sort.by("id"), ParkedRunEntity.REPLAYED).chain(runs -> {
            runs.forEach(run -> request(run, actor));
            List<Long> ids = runs.stream().map(r -> r.id).toList();
            Uni<?> audit = runs.isEmpty() ? Uni.createFrom().voidItem()
                    : AdminAuditEntry.record(actor, "recording.parked.replay", "parked/all", details(runs));
            return audit.replaceWith(new Requested(ids.size(), ids));
        });
    }

    private static void request(ParkedRunEntity run, Actor actor) {
        run.state = ParkedRunEntity.REPLAY_REQUESTED;
        run.replayRequestedAt = OffsetDateTime.now();
        run.replayRequestedBy = actor.name();
    }

    private static Map<String, Object> details(List<ParkedRunEntity> runs) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("ids", runs.stream().map(r -> r.id).toList());
        details.put("events", runs.stream().mapToInt(r -> r.events).sum());
        return details;
    }
}
