package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.OwnOpa;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When OPA is down, slow, or answers garbage, every request is denied with a reason that says so, the session
 * survives, and access resumes when OPA is back. A new policy bundle takes effect within the bound.
 */
@QuarkusTest
@TestProfile(PolicyFailClosedTest.OwnOpaProfile.class)
class PolicyFailClosedTest {
    /** A session policy that lets everyone in, so these tests reach the request decision they break. */
    private static final String ALLOW_EVERY_SESSION =
            "package portcullis.session\n\ndecision := {\"allow\": true, \"reasons\": [], \"policy\": \"x\", \"cache_ttl_s\": 0}\n";

    public static class OwnOpaProfile implements QuarkusTestProfile {
        @Override
        public java.util.List<TestResourceEntry> testResources() {
            return java.util.List.of(new TestResourceEntry(StackResource.class), new TestResourceEntry(OwnOpa.class));
        }
    }

    @BeforeEach
    void targets() throws Exception {
        PolicyTargets.ensure();
        PolicyTargets.resetUsers(3);
    }

    @AfterEach
    void restore() throws Exception {
        OwnOpa.restoreBundle();
        OwnOpa.stopOpa();
        OwnOpa.startOpa();
    }

    private static String outcome(Connection c) {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM policy_users")) {
            rs.next();
            return "allowed";
        } catch (SQLException e) {
            assertEquals("42501", e.getSQLState(), e.getMessage());
            return e.getMessage();
        }
    }

    /** Polls until the outcome contains {@code expected}; returns the seconds it took. */
    private static double await(Connection c, String expected, int maxSeconds) throws Exception {
        long start = System.nanoTime();
        String last = null;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(maxSeconds)) {
            last = outcome(c);
            if (last.contains(expected)) {
                return (System.nanoTime() - start) / 1e9;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("expected '" + expected + "' within " + maxSeconds + " s, last outcome: " + last);
    }

    @Test
    void opa_stopped_mid_session_denies_then_access_resumes() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"))) {
            assertEquals("allowed", outcome(c));
            OwnOpa.stopOpa();
            await(c, "the policy engine is unreachable", 5);
            OwnOpa.startOpa();
            await(c, "allowed", 10);
        }
    }

    @Test
    void new_bundle_takes_effect_within_the_bound() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"))) {
            assertEquals("allowed", outcome(c));
            assertEquals("allowed", outcome(c), "the second, identical request is served from the cache");
            // A new bundle revision in which ci-readonly maps to no role at all.
            String data = Files.readString(OwnOpa.bundle().resolve("portcullis/data.json"));
            Files.writeString(OwnOpa.bundle().resolve("portcullis/data.json"), data.replace("\"ci-readonly\"", "\"ci-readonly-retired\""));
            Files.writeString(OwnOpa.bundle().resolve(".manifest"), "{\"revision\": \"test-2\", \"roots\": [\"portcullis\"]}");
            double seconds = await(c, "Portcullis denied", 8);
            assertTrue(seconds <= 6.5, "old decisions must stop being served within the 5 s bound (plus OPA's reload), took " + seconds);
        }
    }

    @Test
    void malformed_decision_is_a_denial_naming_the_problem() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"))) {
            assertEquals("allowed", outcome(c));
            OwnOpa.replaceBundle(Map.of(".manifest", "{\"revision\": \"garbage\", \"roots\": [\"portcullis\"]}",
                    "portcullis/request.rego", "package portcullis.request\n\ndecision := {\"allow\": \"yes\", \"reasons\": [], \"policy\": \"x\", \"cache_ttl_s\": 0}\n",
                    "portcullis/session.rego", ALLOW_EVERY_SESSION));
            await(c, "'allow' is not a boolean", 8);
        }
    }

    @Test
    void undefined_decision_is_a_denial() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"))) {
            OwnOpa.replaceBundle(Map.of(".manifest", "{\"revision\": \"empty\", \"roots\": [\"portcullis\"]}",
                    "portcullis/session.rego", ALLOW_EVERY_SESSION));
            await(c, "undefined result", 8);
        }
    }

    @Test
    void slow_decision_times_out_as_a_denial() throws Exception {
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token("agent-ci"))) {
            OwnOpa.replaceBundle(Map.of(".manifest", "{\"revision\": \"slow\", \"roots\": [\"portcullis\"]}",
                    "portcullis/request.rego", """
                            package portcullis.request

                            decision := {"allow": true, "reasons": [], "policy": "slow", "cache_ttl_s": 0} if {
                            \tcount([1 | some x in numbers.range(1, 2000); some y in numbers.range(1, 2000); x * y < 0]) == 0
                            }
                            """,
                    "portcullis/session.rego", ALLOW_EVERY_SESSION));
            await(c, "did not answer within 1000 ms", 10);
        }
    }
}
