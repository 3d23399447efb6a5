package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;
import java.util.List;

/**
 * {@code result}: what a request that ran returned. One per statement that reached the PostgreSQL backend, per
 * Kubernetes API call, per SSH channel, SFTP operation and forward.
 *
 * @param protocol      the engine, as in its {@code request} event
 * @param requestSeq    the seq of the {@code request} event it belongs to
 * @param ok            whether it completed without error
 * @param bytes         bytes of data sent to the client (after masking)
 * @param durationUs    from forwarding the request to its completion, in microseconds
 * @param masked        the columns (fields) that were masked, in result order, at most {@link #MAX_MASKED_COLUMNS}
 * @param maskedOmitted masked columns beyond {@link #MAX_MASKED_COLUMNS}, left out of {@code masked}
 * @param detectors     the content detectors that fired (for example {@code email}, {@code card}); empty when none
 * @param details       the protocol's own outcome, a JSON object (contract/EVENTS.md; PostgreSQL:
 *                      {@code {"rows", "command_tag", "sqlstate"}}, Kubernetes: {@code {"code", "impersonated", "impersonated_groups"}} (a port-forward
 *                      adds {@code "ports"}), SSH: {@code {"exit_status", "signal"}}, an SFTP operation
 *                      {@code {"status", "read_bytes", "written_bytes"}}, a forward {@code {"sent_bytes", "received_bytes"}}, a
 *                      remote forward also {@code "connections"});
 *                      never error text, which can quote data
 */
public record Result(String protocol, long requestSeq, boolean ok, long bytes, long durationUs, List<MaskedColumn> masked,
        int maskedOmitted, List<String> detectors, JsonNode details) implements EventBody {
    public static final String TYPE = "result";
    /** The most masked columns one event lists (a result may have up to 1664 columns). */
    public static final int MAX_MASKED_COLUMNS = 128;

    /**
     * A PostgreSQL result whose masked columns are all listed: its details are {@code rows}, {@code command_tag}
     * and {@code sqlstate} (which is null when it succeeded).
     */
    public static Result postgres(long requestSeq, long rows, long bytes, long durationUs, List<MaskedColumn> masked,
            List<String> detectors, String commandTag, String sqlstate) {
        return new Result("postgres", requestSeq, sqlstate == null, bytes, durationUs, masked, 0, detectors,
                SessionEvents.tree(new PostgresDetails(rows, commandTag, sqlstate)));
    }

    /**
     * A PostgreSQL result's {@code details}. There is one per statement that ran, so it writes its three fields itself:
     * converting it as a bean took more of the gateway's recorder than the rest of the event.
     *
     * @param rows       rows returned or affected
     * @param commandTag the backend's tag, such as {@code SELECT 3}; null if it failed
     * @param sqlstate   the SQLSTATE if it failed; never the error text, which can quote data
     */
    public record PostgresDetails(long rows, String commandTag, String sqlstate) implements JsonSerializable {
        @Override
        public void serialize(JsonGenerator g, SerializerProvider provider) throws IOException {
            g.writeStartObject();
            g.writeNumberField("rows", rows);
            g.writeStringField("command_tag", commandTag);
            g.writeStringField("sqlstate", sqlstate);
            g.writeEndObject();
        }

        @Override
        public void serializeWithType(JsonGenerator g, SerializerProvider provider, TypeSerializer type) throws IOException {
            serialize(g, provider);
        }
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
