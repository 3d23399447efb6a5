package dev.portcullis.admin.approval;

import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.Where;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.error.ApiException;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Reads held requests: pages of them, oldest first, and one in full. */
@ApplicationScoped
public class ApprovalService {
    static final Set<String> STATES = Set.of("pending", "approved", "denied", "expired", "withdrawn", "abandoned");

    private final ApprovalsConfig config;

    ApprovalService(ApprovalsConfig config) {
        this.config = config;
    }

    /**
     * What to list. Null fields do not filter.
     *
     * @param identity the requester's subject or name
     * @param from     created at or after
     * @param to       created before
     * @param after    the previous page's cursor
     */
    public record Filter(String state, String identity, String connection, String protocol, OffsetDateTime from,
            OffsetDateTime to, Cursor after, int limit) {
        public Filter {
            if (after != null) {
                after.uuid(); // a cursor of another listing is a 400 now, not a failed query later
            }
        }
    }

    /** @param next the cursor of the next page, or null on the last one */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "ApprovalPage")
    public record Page(List<ApprovalView> items, String next) {
    }

    @WithSession
    public Uni<Page> list(Filter filter) {
        Where where = new Where()
                .and("state = :state", "state", filter.state())
                .and("(identitySubject = :identity or identityName = :identity)", "identity", filter.identity())
                .and("connectionName = :connection", "connection", filter.connection())
                .and("protocol = :protocol", "protocol", filter.protocol())
                .and("createdAt >= :from", "from", filter.from())
                .and("createdAt < :to", "to", filter.to());
        if (filter.after() != null) {
            where.and("(createdAt > :afterAt or (createdAt = :afterAt and id > :afterId))",
                    "afterAt", filter.after().at(), "afterId", filter.after().uuid());
        }
        int limit = filter.limit();
        // one more row than the page holds says whether there is a next page
        return ApprovalRequestEntity.<ApprovalRequestEntity>find(where.query(), Sort.by("createdAt").and("id"), where.parameters())
                .range(0, limit).list()
                .chain(rows -> {
                    var page = Cursor.Page.of(rows, limit, last -> new Cursor(last.createdAt, last.id));
                    return approvals(page.items().stream().map(r -> r.id).toList()).map(counts -> new Page(
                            page.items().stream().map(r -> ApprovalView.of(r, counts.getOrDefault(r.id, 0L).intValue()))
                                    .toList(),
                            page.next()));
                });
    }

    @WithSession
    public Uni<ApprovalDetail> get(UUID id) {
        return ApprovalRequestEntity.<ApprovalRequestEntity>findById(id)
                .onItem().ifNull().failWith(() -> notFound(id))
                .chain(this::detail);
    }

    /** The request in full, read in the caller's session (inside a vote's transaction: as it is about to commit). */
    Uni<ApprovalDetail> detail(ApprovalRequestEntity request) {
        return ApprovalVoteEntity.<ApprovalVoteEntity>list("requestId = ?1", Sort.by("at").and("approverSubject"), request.id)
                .chain(votes -> NotificationEntity.<NotificationEntity>list("requestId = ?1", Sort.by("id"), request.id)
                        .map(notifications -> ApprovalDetail.of(request, votes, notifications,
                                config.webhook().maxAttempts())));
    }

    static ApiException notFound(UUID id) {
        return ApiException.notFound("approval request " + id + " does not exist; GET /approvals lists them");
    }

    /** Approvals so far per request. */
    private static Uni<Map<UUID, Long>> approvals(List<UUID> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        return ApprovalVoteEntity.<ApprovalVoteEntity>list("requestId in ?1 and verdict = ?2", ids, ApprovalVoteEntity.APPROVE)
                .map(votes -> votes.stream().collect(Collectors.groupingBy(v -> v.requestId, Collectors.counting())));
    }
}
