package dev.portcullis.admin;

import dev.portcullis.admin.error.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Where a page of a listing ended: the (time, id) of its last row, to the microsecond PostgreSQL keeps, in the
 * listing's order ({@code GET /approvals}: created_at ascending; {@code GET /sessions}: started_at descending;
 * {@code GET /audit}: at descending). The id breaks ties: a UUID, or a row number for the audit. Listing resumes
 * strictly past it, so a row inserted meanwhile never shifts a page (no duplicate, no gap among the rows that were
 * there). Opaque to clients: base64url of {@code v1:<micros>:<id>}.
 */
public record Cursor(OffsetDateTime at, String id) {
    private static final String VERSION = "v1";
    private static final String NAME = "cursor";
    private static final Pattern ROW_NUMBER = Pattern.compile("[0-9]{1,18}");

    public Cursor(OffsetDateTime at, UUID id) {
        this(at, id.toString());
    }

    public Cursor(OffsetDateTime at, long id) {
        this(at, Long.toString(id));
    }

    public String encode() {
        Instant at = this.at.toInstant();
        long micros = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
        String plain = VERSION + ":" + micros + ":" + id;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * A page of a listing and the cursor of the next one.
     *
     * @param next null on the last page
     */
    public record Page<T>(List<T> items, String next) {
        /**
         * @param rows     up to {@code limit + 1} rows in the listing's order: one more than a page says there is a next
         * @param cursorOf the cursor of a row
         */
        public static <T> Page<T> of(List<T> rows, int limit, Function<T, Cursor> cursorOf) {
            List<T> items = rows.subList(0, Math.min(limit, rows.size()));
            String next = rows.size() > limit ? cursorOf.apply(items.get(items.size() - 1)).encode() : null;
            return new Page<>(items, next);
        }
    }

    /** The id of a listing keyed by UUID; a cursor of another listing is refused like any cursor not given out. */
    public UUID uuid() {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // below
        }
        throw notGivenOut();
    }

    /** The id of a listing keyed by row number (the audit). */
    public long number() {
        if (ROW_NUMBER.matcher(id).matches()) {
            return Long.parseLong(id);
        }
        throw notGivenOut();
    }

    /** @return the cursor in query parameter {@code cursor}, or null when there is none */
    public static Cursor of(QueryParameters query) {
        String cursor = query.text(NAME);
        return cursor == null ? null : decode(cursor);
    }

    static Cursor decode(String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII).split(":");
            if (parts.length == 3 && VERSION.equals(parts[0]) && !parts[2].isEmpty() && parts[2].length() <= 36) {
                Instant at = Instant.EPOCH.plus(Long.parseLong(parts[1]), ChronoUnit.MICROS);
                return new Cursor(OffsetDateTime.ofInstant(at, ZoneOffset.UTC), parts[2]);
            }
        } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
            // below
        }
        throw notGivenOut();
    }

    private static ApiException notGivenOut() {
        return ApiException.invalidField(NAME, "is not a cursor this API gave out; pass the 'next' of the previous page"
                + " unchanged, or leave it out to start from the first page");
    }
}
