package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.POJONode;
import dev.portcullis.contract.events.Result;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A PostgreSQL result's details write themselves: the event on the wire is the one the contract's mapper wrote. */
class ResultDetailsTest {

    @Test
    void a_result_writes_the_same_details_as_the_mapper() {
        for (ResultRelay.ResultDetails details : List.of(new ResultRelay.ResultDetails(3, "SELECT 3", null),
                new ResultRelay.ResultDetails(0, null, "42501"), new ResultRelay.ResultDetails(Long.MAX_VALUE >> 11, "COPY 9", null))) {
            UUID session = UUID.randomUUID();
            Instant at = Instant.parse("2026-12-07T16:00:00.123Z");
            byte[] byMapper = SessionEvents.toWire(new SessionEvent(session, 3, at,
                    new Result("postgres", 2, true, 10, 7, List.of(), 0, List.of("card"), SessionEvents.tree(details))));
            byte[] byItself = SessionEvents.toWire(new SessionEvent(session, 3, at,
                    new Result("postgres", 2, true, 10, 7, List.of(), 0, List.of("card"), new POJONode(details))));
            assertEquals(new String(byMapper, StandardCharsets.UTF_8), new String(byItself, StandardCharsets.UTF_8));
            assertEquals(SessionEvents.read(byMapper), SessionEvents.read(byItself));
        }
    }
}
