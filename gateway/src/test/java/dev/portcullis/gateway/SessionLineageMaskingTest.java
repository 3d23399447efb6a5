package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.MaskingTargets;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lineage that the statement text alone does not hold: an {@code EXECUTE} of an SQL-level {@code PREPARE}, a
 * {@code FETCH} from a declared cursor, and a view (over a view, materialized) whose columns are computed over a masked
 * column. Through the real gateway, OPA (the default policies) and PostgreSQL, with psql and pgjdbc, as {@code alice}
 * (dba: no detectors, so only lineage masks for her) and {@code bob} (developers: detectors). Each result's computed
 * column over {@code users.email} is masked whole, and its plain {@code name} column comes back exactly (CursorMaskingTest
 * has more of cursors).
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class SessionLineageMaskingTest {

    private static final String ROW = "Jane Doe|***\n";

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("CREATE OR REPLACE VIEW email_parts AS SELECT id, name, split_part(email, '@', 1) AS local FROM users");
            st.execute("CREATE OR REPLACE VIEW email_parts_shout AS SELECT id, name, upper(local) AS shout FROM email_parts");
            st.execute("CREATE MATERIALIZED VIEW IF NOT EXISTS email_parts_kept AS SELECT id, name, reverse(email) AS backwards FROM users");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void an_execute_masks_what_its_prepare_computes(String client) throws Exception {
        assertEquals(ROW, psql(client, "PREPARE parts AS SELECT name, split_part(email, '@', 1) FROM users WHERE id = $1;"
                + " EXECUTE parts(1);"));
        // the parameters are values; the lineage is the prepared query's
        assertEquals("Jane Doe|jane doe\n", psql(client, "PREPARE plain AS SELECT name, lower(name) FROM users WHERE id = 1;"
                + " EXECUTE plain;"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void a_prepare_under_a_reused_name_is_judged_by_the_text_it_has_when_executed(String client) throws Exception {
        // one Query message: the first EXECUTE runs the masked text, the second the plain one
        assertEquals(ROW + "Jane Doe|jane doe\n", psql(client,
                "PREPARE q AS SELECT name, lower(email) FROM users WHERE id = 1 \\; EXECUTE q \\; DEALLOCATE q"
                        + " \\; PREPARE q AS SELECT name, lower(name) FROM users WHERE id = 1 \\; EXECUTE q;"));
        // and the other way round, in separate queries
        assertEquals("Jane Doe|jane doe\n" + ROW, psql(client, "PREPARE r AS SELECT name, lower(name) FROM users WHERE id = 1;"
                + " EXECUTE r; DEALLOCATE r; PREPARE r AS SELECT name, lower(email) FROM users WHERE id = 1; EXECUTE r;"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void a_fetch_masks_what_its_cursor_computes(String client) throws Exception {
        assertEquals(ROW + ROW, psql(client, "BEGIN; DECLARE c SCROLL CURSOR FOR SELECT name, upper(email) FROM users WHERE id = 1;"
                + " FETCH c; MOVE BACKWARD 1 IN c; FETCH NEXT FROM c; COMMIT;"));
        // a holdable cursor outlives its transaction
        assertEquals(ROW, psql(client, "DECLARE h CURSOR WITH HOLD FOR SELECT name, reverse(email) FROM users WHERE id = 1;"
                + " FETCH ALL FROM h; CLOSE h;"));
        // a cursor name declared again after its transaction ended runs the new query
        assertEquals(ROW + "Jane Doe|JANE DOE\n", psql(client,
                "BEGIN; DECLARE d CURSOR FOR SELECT name, upper(email) FROM users WHERE id = 1; FETCH d; COMMIT;"
                        + " BEGIN; DECLARE d CURSOR FOR SELECT name, upper(name) FROM users WHERE id = 1; FETCH d; COMMIT;"));
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token(client), p); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("DECLARE jc CURSOR FOR SELECT name, left(email, 8) FROM users WHERE id = 1");
            assertEquals(List.of(List.of("Jane Doe", "***")), Jdbc.rows(c, "FETCH jc"));
            c.commit();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void a_view_masks_what_it_computes_over_a_masked_column(String client) throws Exception {
        assertEquals(ROW, psql(client, "SELECT name, local FROM email_parts WHERE id = 1;"));
        assertEquals("1|Jane Doe|***\n", psql(client, "SELECT * FROM email_parts WHERE id = 1;"));
        assertEquals(ROW, psql(client, "SELECT name, local || '' FROM email_parts WHERE id = 1;"));
        assertEquals(ROW, psql(client, "SELECT name, shout FROM email_parts_shout WHERE id = 1;"));
        assertEquals(ROW, psql(client, "SELECT name, backwards FROM email_parts_kept WHERE id = 1;"));
        assertEquals("Jane Doe|jane doe\n", psql(client, "SELECT name, lower(name) FROM email_parts WHERE id = 1;"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void an_execute_of_a_statement_the_gateway_forgot_reveals_nothing(String client) throws Exception {
        // a session remembers 1,000 names: the 1,001st PREPARE makes it forget the first (four Query messages of 250)
        StringBuilder script = new StringBuilder("PREPARE first_one AS SELECT name, lower(email) FROM users WHERE id = 1;\n");
        for (int batch = 0; batch < 4; batch++) {
            for (int i = 0; i < 250; i++) {
                int n = batch * 250 + i;
                script.append(i == 0 ? "" : " \\; ").append("PREPARE filler_").append(n).append(" AS SELECT ").append(n);
            }
            script.append(";\n");
        }
        script.append("EXECUTE first_one;");
        if (client.equals("alice")) {
            // its computed column is redacted by the gateway, whatever the policy says of unknown lineage
            assertEquals(ROW, psql(client, script.toString()));
            return;
        }
        // for a developer, the default policy denies a statement the gateway cannot analyse
        Cli.Result r = Cli.psql(TestStack.token(client), PolicyTargets.DEV, "\\set ON_ERROR_STOP on\n" + script + "\n");
        assertTrue(r.stderr().contains("EXECUTE first_one: this session has no prepared statement of that name"), r.all());
        assertFalse(r.stdout().contains("jane.doe"), r.all());
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "bob"})
    void pgjdbc_gets_the_same_through_the_extended_protocol(String client) throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        try (Connection c = Jdbc.viaGateway(PolicyTargets.DEV, TestStack.token(client), p); Statement st = c.createStatement()) {
            st.execute("PREPARE jparts AS SELECT name, split_part(email, '@', 2) FROM users WHERE id = 1");
            assertEquals(List.of(List.of("Jane Doe", "***")), Jdbc.rows(c, "EXECUTE jparts"));
            assertEquals(List.of(List.of("Jane Doe", "***")), Jdbc.rows(c, "SELECT name, shout FROM email_parts_shout WHERE id = 1"));
        }
    }

    private static String psql(String client, String sql) throws Exception {
        Cli.Result r = Cli.psql(TestStack.token(client), PolicyTargets.DEV,
                "\\set QUIET on\n\\set ON_ERROR_STOP on\n\\pset null (null)\n\\pset format unaligned\n\\pset tuples_only on\n" + sql + "\n");
        assertEquals(0, r.exitCode(), r.all());
        return r.stdout();
    }
}
