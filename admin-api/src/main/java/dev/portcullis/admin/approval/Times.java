package dev.portcullis.admin.approval;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Times as messages show them: UTC, to the second, RFC 3339 ({@code 2026-11-28T08:10:00Z}). */
public final class Times {
    private Times() {
    }

    public static String format(OffsetDateTime t) {
        return t == null ? "(unknown)"
                : DateTimeFormatter.ISO_INSTANT.format(t.withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS));
    }
}
