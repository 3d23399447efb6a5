package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real psql through the gateway: the everyday things a person or an agent does in a session. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class PsqlThroughGatewayTest {

    @TempDir
    Path dir;

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    @Test
    void script_with_ddl_dml_copy_transactions_and_errors_runs_as_against_postgres(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in.csv");
        Path out = tmp.resolve("out.csv");
        Files.write(in, List.of("1,alpha", "2,beta", "3,\"gam,ma\""));
        String script = """
                DROP TABLE IF EXISTS psql_items;
                CREATE TABLE psql_items (id int PRIMARY KEY, label text NOT NULL);
                \\copy psql_items FROM '%s' WITH (FORMAT csv)
                INSERT INTO psql_items VALUES (4, 'delta'); UPDATE psql_items SET label = upper(label) WHERE id = 4; SELECT count(*) AS after_multi FROM psql_items;
                BEGIN;
                INSERT INTO psql_items VALUES (5, 'epsilon');
                COMMIT;
                BEGIN;
                INSERT INTO psql_items VALUES (6, 'zeta');
                INSERT INTO psql_items VALUES (1, 'duplicate');
                SELECT 'inside failed transaction';
                ROLLBACK;
                \\copy (SELECT id, label FROM psql_items ORDER BY id) TO '%s' WITH (FORMAT csv)
                SELECT string_agg(label, '|' ORDER BY id) AS labels FROM psql_items;
                """.formatted(in, out);
        Cli.Result r = Cli.psql(TestStack.token("alice"), TargetDatabases.CONNECTION, script);

        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("COPY 3"), r.all());
        assertTrue(r.stdout().contains(" after_multi \n-------------\n           4"), r.all());
        assertTrue(r.stderr().contains("duplicate key value violates unique constraint"), r.all());
        assertTrue(r.stderr().contains("current transaction is aborted"), r.all());
        assertTrue(r.stdout().contains("alpha|beta|gam,ma|DELTA|epsilon"), r.all());
        assertEquals(List.of("1,alpha", "2,beta", "3,\"gam,ma\"", "4,DELTA", "5,epsilon"), Files.readAllLines(out));
    }

    @Test
    void ctrl_c_cancels_the_running_query() throws Exception {
        Process psql = Cli.start(Cli.gatewayEnv(TestStack.token("alice"), TargetDatabases.CONNECTION),
                "psql", "-X", "-c", "SELECT pg_sleep(60)");
        // give psql time to connect and start the query, then interrupt it like a person pressing Ctrl-C
        waitForActiveQuery("pg_sleep(60)");
        new ProcessBuilder("kill", "-INT", String.valueOf(psql.pid())).start().waitFor();
        assertTrue(psql.waitFor(20, TimeUnit.SECONDS), "psql did not finish after the cancel");
        String out = new String(psql.getInputStream().readAllBytes());
        String err = new String(psql.getErrorStream().readAllBytes());
        assertTrue(err.contains("canceling statement due to user request"), out + err);
    }

    @Test
    void sslmode_disable_is_refused_before_the_token_is_sent() throws Exception {
        var env = new java.util.HashMap<>(Cli.gatewayEnv("never-sent", TargetDatabases.CONNECTION));
        env.put("PGSSLMODE", "disable");
        Cli.Result r = Cli.run(env, null, 30, "psql", "-X", "-c", "SELECT 1");
        assertFalse(r.exitCode() == 0);
        assertTrue(r.stderr().contains("Portcullis requires TLS"), r.all());
    }

    static void waitForActiveQuery(String fragment) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (var c = TestStack.superuser("postgres"); var st = c.createStatement();
                    var rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%"
                            + fragment.replace("'", "''") + "%' AND pid <> pg_backend_pid()")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the query '" + fragment + "' never became active on the backend");
    }
}
