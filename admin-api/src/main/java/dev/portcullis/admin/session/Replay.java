package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A page of a session's events in seq order, each exactly as recorded (contract/EVENTS.md), every one verified
 * against the hash chain.
 *
 * @param nextAfterSeq pass as {@code after_seq} for the next page; {@code null} on the last page
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Replay(
        UUID sessionId,
        @Schema(description = "The events in seq order, each a JSON object exactly as recorded (contract/EVENTS.md)",
                type = SchemaType.ARRAY, implementation = Map.class)
        List<ObjectNode> events,
        @Schema(nullable = true)
        Long nextAfterSeq) {
}
