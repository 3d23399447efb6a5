package dev.portcullis.admin.audit;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.Where;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Reads the audit of admin actions: pages of it, newest first. */
@ApplicationScoped
public class AuditService {

    /**
     * What to list. Null fields do not filter.
     *
     * @param actor  the actor's subject or name
     * @param since  at or after
     * @param until  before
     * @param before the previous page's cursor
     */
    public record Filter(String actor, String action, String target, OffsetDateTime since, OffsetDateTime until,
            Cursor before, int limit) {
        public Filter {
            if (before != null) {
                before.number(); // a cursor of another listing is a 400 now, not a failed query later
            }
        }
    }

    /** @param next the cursor of the next page, or null on the last one */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "AuditPage")
    public record Page(List<AuditView> items, String next) {
    }

    @WithSession
    public Uni<Page> list(Filter filter) {
        Where where = new Where()
                .and("(actorSubject = :actor or actorName = :actor)", "actor", filter.actor())
                .and("action = :action", "action", filter.action())
                .and("target = :target", "target", filter.target())
                .and("at >= :since", "since", filter.since())
                .and("at < :until", "until", filter.until());
        if (filter.before() != null) {
            where.and("(at < :beforeAt or (at = :beforeAt and id < :beforeId))",
                    "beforeAt", filter.before().at(), "beforeId", filter.before().number());
        }
        int limit = filter.limit();
        // one more row than the page holds says whether there is a next page
        return AdminAuditEntry.<AdminAuditEntry>find(where.query() + " order by at desc, id desc", where.parameters())
                .range(0, limit).list()
                .map(rows -> {
                    var page = Cursor.Page.of(rows, limit, last -> new Cursor(last.at, last.id));
                    return new Page(page.items().stream().map(AuditView::of).toList(), page.next());
                });
    }
}
