package dev.portcullis.admin.approval;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import java.time.OffsetDateTime;

/**
 * PostgreSQL's clock, the one the gateways and the triggers use: expiry is decided against it, never against this
 * replica's clock, and two votes on one request (serialised by its row lock) never share a time.
 */
public final class DatabaseTime {
    private DatabaseTime() {
    }

    /** {@code clock_timestamp()}: the time now, not the transaction's start. Call it in the current session. */
    public static Uni<OffsetDateTime> now() {
        return Panache.getSession().chain(session -> session
                .createNativeQuery("SELECT clock_timestamp()", OffsetDateTime.class).getSingleResult());
    }
}
