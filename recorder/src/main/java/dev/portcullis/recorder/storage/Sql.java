package dev.portcullis.recorder.storage;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Small helpers for the recorder's PostgreSQL access through the Vert.x reactive client. The recorder's callers are
 * worker threads that also block on S3, so they wait for each statement's result here.
 *
 * <p>Why not Hibernate Reactive: its native queries cannot bind arrays, and every bulk statement of the recorder is
 * bounded by binding whole columns as arrays ({@code unnest($1::uuid[], ...)}), whatever the batch size.
 */
public final class Sql {
    /** A statement that takes longer than this failed; the caller's retry policy decides what comes next. */
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private Sql() {
    }

    public static <T> T await(Uni<T> work) {
        return work.await().atMost(TIMEOUT);
    }

    public static <T> List<T> rows(RowSet<Row> rows, Function<Row, T> map) {
        List<T> out = new ArrayList<>(rows.size());
        for (Row row : rows) {
            out.add(map.apply(row));
        }
        return out;
    }

    /** In UTC. Not {@code instant.atOffset(UTC)}: that builds the offset's ZoneRules on every call (JDK 17). */
    public static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : OffsetDateTime.of(
                LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC), ZoneOffset.UTC);
    }

    /** Text PostgreSQL accepts (no NUL), cut to {@code max} characters: for index columns and error messages. */
    public static String text(String s, int max) {
        if (s == null) {
            return null;
        }
        String clean = s.indexOf('\0') < 0 ? s : s.replace("\0", "");
        return clean.length() > max ? clean.substring(0, max) : clean;
    }
}
