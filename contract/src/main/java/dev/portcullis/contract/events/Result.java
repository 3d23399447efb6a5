package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * {@code result}: what a statement that ran returned. One per statement that reached the backend.
 *
 * @param requestSeq the seq of the {@code request} event this statement belongs to
 * @param rows       rows returned or affected
 * @param bytes      bytes of row data sent to the client (after masking)
 * @param durationUs from forwarding the statement to its completion, in microseconds
 * @param masked     the columns that were masked, in result order, at most {@link #MAX_MASKED_COLUMNS}; empty when none
 * @param detectors  the content detectors that fired (for example {@code email}, {@code card}); empty when none
 * @param commandTag the backend's CommandComplete tag, for example {@code SELECT 3}; {@code null} if it failed
 * @param sqlstate   the SQLSTATE of the error if the statement failed, else {@code null}. Never the error text,
 *                   which can quote data.
 * @param maskedOmitted masked columns beyond {@link #MAX_MASKED_COLUMNS}, left out of {@code masked}
 */
public record Result(long requestSeq, long rows, long bytes, long durationUs, List<MaskedColumn> masked,
        List<String> detectors, String commandTag, String sqlstate, int maskedOmitted) implements EventBody {
    public static final String TYPE = "result";
    /** The most masked columns one event lists (a result may have up to 1664 columns). */
    public static final int MAX_MASKED_COLUMNS = 128;

    /** A result whose masked columns are all listed. */
    public Result(long requestSeq, long rows, long bytes, long durationUs, List<MaskedColumn> masked,
            List<String> detectors, String commandTag, String sqlstate) {
        this(requestSeq, rows, bytes, durationUs, masked, detectors, commandTag, sqlstate, 0);
    }

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }

    /**
     * @param column       the column label as the client saw it
     * @param table        the source table, {@code null} for a computed column
     * @param schema       the source table's schema, {@code null} for a computed column
     * @param sourceColumn the column in the source table, {@code null} for a computed column
     * @param method       redact, null, hash, partial, email or card
     * @param rule         the policy rule that asked for it
     */
    public record MaskedColumn(String column, String table, String schema, String sourceColumn, String method,
            String rule) {
    }
}
