package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.Where;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Reads the recorded sessions' index: pages of it, most recently started first, and one session. */
@ApplicationScoped
public class SessionService {
    /**
     * When a session started, for ordering and filtering: its start or, while its SessionStarted event is not
     * recorded (parked), its last recorded event's time, so that every session has a place in the pages.
     */
    private static final String STARTED = "coalesce(startedAt, lastEventAt)";

    /**
     * What to list. Null fields do not filter.
     *
     * @param identity   the subject or name of the session's identity
     * @param protocol   the connection type (postgres, ssh, kubernetes, ...)
     * @param live       true: not ended yet; false: ended
     * @param from       started at or after
     * @param to         started before
     * @param hadDenials true: at least one request was denied; false: none was
     * @param before     the previous page's cursor
     */
    public record Filter(String identity, String connection, String protocol, String gateway, Boolean live,
            OffsetDateTime from, OffsetDateTime to, Boolean hadDenials, Cursor before, int limit) {
        public Filter {
            if (before != null) {
                before.uuid(); // a cursor of another listing is a 400 now, not a failed query later
            }
        }
    }

    /** @param next the cursor of the next page, or null on the last one */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "SessionPage")
    public record Page(List<SessionView> items, String next) {
    }

    @WithSession
    public Uni<Page> list(Filter filter) {
        Where where = new Where()
                .and("(identitySubject = :identity or identityName = :identity)", "identity", filter.identity())
                .and("connectionName = :connection", "connection", filter.connection())
                .and("connectionType = :protocol", "protocol", filter.protocol())
                .and("gateway = :gateway", "gateway", filter.gateway())
                .and(STARTED + " >= :from", "from", filter.from())
                .and(STARTED + " < :to", "to", filter.to());
        if (filter.live() != null) {
            where.and(filter.live() ? "endedAt is null" : "endedAt is not null");
        }
        if (filter.hadDenials() != null) {
            where.and(filter.hadDenials() ? "denials > 0" : "denials = 0");
        }
        if (filter.before() != null) {
            where.and("(" + STARTED + " < :beforeAt or (" + STARTED + " = :beforeAt and id < :beforeId))",
                    "beforeAt", filter.before().at(), "beforeId", filter.before().uuid());
        }
        int limit = filter.limit();
        // one more row than the page holds says whether there is a next page
        return SessionEntity.<SessionEntity>find(where.query() + " order by " + STARTED + " desc, id desc", where.parameters())
                .range(0, limit).list()
                .map(rows -> {
                    var page = Cursor.Page.of(rows, limit, last -> new Cursor(started(last), last.id));
                    return new Page(page.items().stream().map(SessionView::of).toList(), page.next());
                });
    }

    @WithSession
    public Uni<SessionView> get(UUID id) {
        return SessionEntity.<SessionEntity>findById(id)
                .onItem().ifNull().failWith(() -> RecordingService.notRecorded(id))
                .map(SessionView::of);
    }

    private static OffsetDateTime started(SessionEntity s) {
        return s.startedAt != null ? s.startedAt : s.lastEventAt;
    }
}
