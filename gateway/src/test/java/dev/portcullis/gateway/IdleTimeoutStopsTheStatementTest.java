package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The idle timeout ends a session like a kill does: what the backend still runs is cancelled, not left running. */
@QuarkusTest
@TestProfile(IdleTimeoutStopsTheStatementTest.ShortIdleTimeout.class)
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class IdleTimeoutStopsTheStatementTest {

    public static class ShortIdleTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("portcullis.postgres.idle-timeout", "3s");
        }
    }

    @Test
    void the_idle_timeout_cancels_the_running_statement_on_the_backend() throws Exception {
        TargetDatabases.ensure();
        Cli.Result r = Cli.run(Cli.gatewayEnv(TestStack.token("alice"), TargetDatabases.CONNECTION), null, 30,
                "psql", "-X", "-c", "SELECT pg_sleep(60) AS idle_sleep");
        assertNotEquals(0, r.exitCode(), r.all());
        assertTrue(r.stderr().contains("the session was idle for longer than 3 s"), r.all());
        KillStopsTheStatementTest.awaitBackend("idle_sleep", false, 5);
    }
}
