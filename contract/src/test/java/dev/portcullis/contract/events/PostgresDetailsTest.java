package dev.portcullis.contract.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.POJONode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL result's details write themselves: as a node that writes them (the gateway's recorder) or as a tree,
 * the event on the wire is the one a plain map of the contract's three fields gives.
 */
class PostgresDetailsTest {

    @Test
    void the_details_write_the_contracts_three_fields() {
        for (Result.PostgresDetails details : List.of(new Result.PostgresDetails(3, "SELECT 3", null),
                new Result.PostgresDetails(0, null, "42501"), new Result.PostgresDetails(Long.MAX_VALUE >> 11, "COPY 9", null))) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("rows", details.rows());
            map.put("command_tag", details.commandTag());
            map.put("sqlstate", details.sqlstate());
            String byMap = wire(SessionEvents.tree(map));
            assertEquals(byMap, wire(new POJONode(details)));
            assertEquals(byMap, wire(SessionEvents.tree(details)));
            assertEquals(SessionEvents.tree(map), SessionEvents.tree(details));
        }
    }

    private static String wire(com.fasterxml.jackson.databind.JsonNode details) {
        UUID session = UUID.fromString("0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40");
        byte[] bytes = SessionEvents.toWire(new SessionEvent(session, 3, Instant.parse("2026-12-07T16:00:00.123Z"),
                new Result("postgres", 2, true, 10, 7, List.of(), 0, List.of("card"), details)));
        SessionEvents.read(bytes); // a reader takes it
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
