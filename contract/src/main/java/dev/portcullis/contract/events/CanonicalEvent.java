package dev.portcullis.contract.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.UUID;

/**
 * An event as a reader received it: its envelope checked, every field kept (also those a newer minor revision of
 * the contract adds), and its canonical bytes, which are what gets stored and hashed. Made by
 * {@link SessionEvents#canonical(byte[])}.
 *
 * @param version the contract version it was written in ({@code v})
 * @param json    the canonical JSON ({@link CanonicalJson}), one line of a recording chunk
 */
public record CanonicalEvent(int version, UUID sessionId, long seq, Instant at, String type, ObjectNode tree, byte[] json) {

    /** A top-level field of the event, or a missing node. */
    public JsonNode field(String name) {
        return tree.path(name);
    }

    /** The rows a PostgreSQL {@code result} reports, or {@code null} (another type, another protocol, no number). */
    public Long resultRows() {
        if (!Result.TYPE.equals(type)) {
            return null;
        }
        JsonNode rows = version == 1 ? field("rows") : field("details").path("rows");
        return rows.canConvertToLong() ? rows.longValue() : null;
    }
}
