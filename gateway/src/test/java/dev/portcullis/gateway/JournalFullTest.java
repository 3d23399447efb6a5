package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Kafka unreachable and the event journal full: new requests are refused with a clear error and do not run,
 * so nothing runs unrecorded (portcullis.recording.refuse-when-full, the default).
 */
@QuarkusTest
@TestProfile(JournalFullTest.KafkaAway.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class JournalFullTest {

    public static class KafkaAway implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("kafka.bootstrap.servers", "127.0.0.1:9",
                    "portcullis.recording.journal-dir", "target/event-journal-full-" + UUID.randomUUID(),
                    "portcullis.recording.journal-max-bytes", "16384");
        }
    }

    private static int probes() throws SQLException {
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM journal_probe")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void requests_are_refused_and_not_run_once_the_journal_is_full() throws Exception {
        PolicyTargets.ensure();
        TestStack.execute(TargetDatabases.DATABASE, "SET ROLE " + TargetDatabases.SCRAM_ROLE,
                "DROP TABLE IF EXISTS journal_probe", "CREATE TABLE journal_probe (i int)");
        int ran = 0;
        SQLException refused = null;
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("alice")); Statement st = c.createStatement()) {
            for (int i = 0; i < 500 && refused == null; i++) {
                try {
                    st.executeUpdate("INSERT INTO journal_probe VALUES (" + i + ")");
                    ran++;
                } catch (SQLException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null, "the journal never filled");
            assertEquals("42501", refused.getSQLState());
            assertTrue(refused.getMessage().contains("cannot record this session"), refused.getMessage());
            assertEquals(ran, probes(), "the refused INSERT did not run");
            SQLException again = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
            assertTrue(again.getMessage().contains("cannot record this session"), again.getMessage());
        }
        assertTrue(ran > 3, "requests ran while the journal had room: " + ran);
    }
}
