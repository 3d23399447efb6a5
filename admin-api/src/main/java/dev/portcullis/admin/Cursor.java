package dev.portcullis.admin;

import dev.portcullis.admin.error.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;

/**
 * Where a page of a listing ended: the (time, id) of its last row, to the microsecond PostgreSQL keeps, in the
 * listing's order ({@code GET /approvals}: created_at ascending; {@code GET /sessions}: started_at descending).
 * Listing resumes strictly past it, so a row inserted meanwhile never shifts a page (no duplicate, no gap among the
 * rows that were there). Opaque to clients: base64url of {@code v1:<micros>:<id>}.
 */
public record Cursor(OffsetDateTime at, UUID id) {
    private static final String VERSION = "v1";

    public String encode() {
        Instant at = this.at.toInstant();
        long micros = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
        String plain = VERSION + ":" + micros + ":" + id;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
    }

    public static Cursor decode(String name, String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII).split(":");
            if (parts.length == 3 && VERSION.equals(parts[0]) && parts[2].length() == 36) {
                Instant at = Instant.EPOCH.plus(Long.parseLong(parts[1]), ChronoUnit.MICROS);
                return new Cursor(OffsetDateTime.ofInstant(at, ZoneOffset.UTC), UUID.fromString(parts[2]));
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // below
        }
        throw ApiException.invalidField(name, "is not a cursor this API gave out; pass the 'next' of the previous page"
                + " unchanged, or leave it out to start from the first page");
    }
}
