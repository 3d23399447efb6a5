package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** pgbench initialises and runs through the gateway under every query mode, with no failed transaction. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class PgbenchThroughGatewayTest {
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");

    @BeforeAll
    static void initialise() throws Exception {
        TargetDatabases.ensure();
        Cli.Result init = Cli.run(Cli.gatewayEnv(TestStack.token("alice"), TargetDatabases.CONNECTION), null, 120,
                "pgbench", "-i", "-s", "1", "-q");
        assertEquals(0, init.exitCode(), init.all());
        assertTrue(init.all().contains("done"), init.all());
    }

    @ParameterizedTest(name = "-M {0}")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void tpcb_runs_without_failures(String mode) throws Exception {
        Cli.Result run = Cli.run(Cli.gatewayEnv(TestStack.token("alice"), TargetDatabases.CONNECTION), null, 60,
                "pgbench", "-M", mode, "-c", "4", "-j", "2", "-T", "3", "-n");
        assertEquals(0, run.exitCode(), run.all());
        Matcher m = PROCESSED.matcher(run.stdout());
        assertTrue(m.find(), run.all());
        assertTrue(Long.parseLong(m.group(1)) > 0, run.all());
        assertTrue(run.stdout().contains("number of failed transactions: 0"), run.all());
    }

    @Test
    void select_only_pipelined_with_many_clients() throws Exception {
        Cli.Result run = Cli.run(Cli.gatewayEnv(TestStack.token("alice"), TargetDatabases.CONNECTION), null, 60,
                "pgbench", "-S", "-M", "prepared", "-c", "16", "-j", "2", "-T", "3", "-n");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("number of failed transactions: 0"), run.all());
    }
}
