package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.Cursor;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Parameters;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

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
    }

    /** @param next the cursor of the next page, or null on the last one */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Page(List<SessionView> items, String next) {
    }

    @WithSession
    public Uni<Page> list(Filter filter) {
        StringBuilder query = new StringBuilder("1 = 1");
        Parameters parameters = new Parameters();
        where(query, parameters, "(identitySubject = :identity or identityName = :identity)", "identity", filter.identity());
        where(query, parameters, "connectionName = :connection", "connection", filter.connection());
        where(query, parameters, "connectionType = :protocol", "protocol", filter.protocol());
        where(query, parameters, "gateway = :gateway", "gateway", filter.gateway());
        where(query, parameters, STARTED + " >= :from", "from", filter.from());
        where(query, parameters, STARTED + " < :to", "to", filter.to());
        if (filter.live() != null) {
            query.append(filter.live() ? " and endedAt is null" : " and endedAt is not null");
        }
        if (filter.hadDenials() != null) {
            query.append(filter.hadDenials() ? " and denials > 0" : " and denials = 0");
        }
        if (filter.before() != null) {
            query.append(" and (" + STARTED + " < :beforeAt or (" + STARTED + " = :beforeAt and id < :beforeId))");
            parameters.and("beforeAt", filter.before().at()).and("beforeId", filter.before().id());
        }
        int limit = filter.limit();
        // one more row than the page holds says whether there is a next page
        query.append(" order by " + STARTED + " desc, id desc");
        return SessionEntity.<SessionEntity>find(query.toString(), parameters)
                .range(0, limit).list()
                .map(rows -> {
                    List<SessionEntity> page = rows.subList(0, Math.min(limit, rows.size()));
                    SessionEntity last = page.isEmpty() ? null : page.get(page.size() - 1);
                    String next = rows.size() > limit ? new Cursor(started(last), last.id).encode() : null;
                    return new Page(page.stream().map(SessionView::of).toList(), next);
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

    private static void where(StringBuilder query, Parameters parameters, String condition, String name, Object value) {
        if (value != null) {
            query.append(" and ").append(condition);
            parameters.and(name, value);
        }
    }
}
