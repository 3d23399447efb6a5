package dev.portcullis.admin;

import dev.portcullis.admin.error.ApiException;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.UriInfo;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The query parameters of a listing, checked: a parameter the endpoint does not know, or one given twice, is a 400
 * that names it (a typo such as {@code stat=pending} would otherwise silently list everything).
 */
public final class QueryParameters {
    private final MultivaluedMap<String, String> values;

    private QueryParameters(MultivaluedMap<String, String> values) {
        this.values = values;
    }

    public static QueryParameters of(UriInfo uri, String... known) {
        MultivaluedMap<String, String> values = uri.getQueryParameters();
        Set<String> names = new TreeSet<>(List.of(known));
        for (var entry : values.entrySet()) {
            if (!names.contains(entry.getKey())) {
                throw ApiException.invalidField(entry.getKey(), names.isEmpty() ? "is not a known query parameter here;"
                        + " this endpoint takes none" : "is not a known query parameter here; known ones are: "
                        + String.join(", ", names));
            }
            if (entry.getValue().size() > 1) {
                throw ApiException.invalidField(entry.getKey(), "is given more than once; give it at most once");
            }
        }
        return new QueryParameters(values);
    }

    /** @return the value, or null when absent or empty */
    public String text(String name) {
        String value = values.getFirst(name);
        return value == null || value.isEmpty() ? null : value;
    }

    public String oneOf(String name, Set<String> allowed) {
        String value = text(name);
        if (value != null && !allowed.contains(value)) {
            throw ApiException.invalidField(name, "must be one of: " + String.join(", ", new TreeSet<>(allowed)));
        }
        return value;
    }

    public int limit(String name, int fallback, int max) {
        String value = text(name);
        if (value == null) {
            return fallback;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiException.invalidField(name, "must be a whole number between 1 and " + max);
    }

    /**
     * @param what what the number is, for the message: "the seq of a request event"
     * @return the value, or null when absent
     */
    public Long number(String name, long min, String what) {
        String value = text(name);
        if (value == null) {
            return null;
        }
        try {
            long number = Long.parseLong(value);
            if (number >= min) {
                return number;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiException.invalidField(name, "must be " + what + ", a whole number of " + min + " or more");
    }

    public OffsetDateTime time(String name) {
        String value = text(name);
        try {
            return value == null ? null : OffsetDateTime.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiException.invalidField(name, "must be an RFC 3339 time with its offset, such as 2026-11-28T08:00:00Z");
        }
    }

    public Boolean bool(String name) {
        String value = text(name);
        if (value == null) {
            return null;
        }
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ApiException.invalidField(name, "must be true or false");
        };
    }
}
