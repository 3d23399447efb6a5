package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Cli;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.MaskingTargets;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Results are masked in flight as the real OPA's portcullis/mask decides, for psql (simple protocol) and pgjdbc
 * (extended protocol, server-prepared statements, text and binary format): every method of the default
 * rules, every escape route the detectors exist for, and COPY TO STDOUT. Nothing sensitive reaches the client.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class MaskingTest {

    @BeforeEach
    void seeded() throws Exception {
        MaskingTargets.ensure();
    }

    /** pgjdbc with server-prepared statements from the first use, optionally receiving text columns in binary. */
    private static Connection jdbc(String client, String connection, boolean binaryText) throws SQLException {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        if (binaryText) {
            p.setProperty("binaryTransferEnable", "TEXT,VARCHAR,25,1043");
        }
        return Jdbc.viaGateway(connection, TestStack.token(client), p);
    }

    private static List<List<String>> rows(Connection c, String sql) throws SQLException {
        return Jdbc.rows(c, sql);
    }

    private static String psql(String client, String connection, String sql) throws Exception {
        Cli.Result r = Cli.psql(TestStack.token(client), connection, "\\set QUIET on\n\\pset format unaligned\n\\pset tuples_only on\n" + sql + "\n");
        assertEquals(0, r.exitCode(), r.all());
        return r.stdout();
    }

    @Test
    void psql_sees_email_and_phone_masked_by_their_rules() throws Exception {
        String out = psql("alice", PolicyTargets.PROD, "SELECT id, name, email, phone FROM users ORDER BY id;");
        assertEquals("""
                1|Jane Doe|j***@example.com|+*-***-***-**42
                2|John Roe|j***@example.org|+** ** **** **58
                3|Ann Lee|a***@example.net|+*-***-***-**99
                """, out);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void jdbc_sees_every_method_in_text_and_binary_format(boolean binary) throws Exception {
        try (Connection c = jdbc("alice", PolicyTargets.PROD, binary)) {
            for (int run = 0; run < 3; run++) { // the statement is prepared once, then executed without a Describe
                assertEquals(List.of(List.of("j***@example.com", "+*-***-***-**42")),
                        rows(c, "SELECT email, phone FROM users WHERE id = 1"));
                assertEquals(List.of(List.of("**** **** **** 4242"), List.of("**** **** **** 4444")),
                        rows(c, "SELECT card_number FROM payments ORDER BY id"));
                List<List<String>> customers = rows(c, "SELECT ssn, tax_id, password_hash, api_key, note FROM customers ORDER BY id");
                assertEquals("***-**-6789", customers.get(0).get(0), "partial keeps the last four");
                assertTrue(customers.get(0).get(1).matches("[0-9a-f]{32}"), "hash: " + customers.get(0).get(1));
                assertEquals(customers.get(0).get(1), customers.get(1).get(1), "the keyed hash is deterministic");
                assertFalse(customers.get(0).get(1).contains("TX-1001"));
                assertNull(customers.get(0).get(2), "null");
                assertEquals("***", customers.get(0).get(3), "redact");
                assertTrue(customers.get(0).get(4).contains("GB82WEST"), "a dba runs no detectors: " + customers.get(0).get(4));
            }
        }
    }

    @Test
    void an_alias_does_not_hide_a_column() throws Exception {
        try (Connection c = jdbc("alice", PolicyTargets.PROD, false)) {
            assertEquals(List.of(List.of("j***@example.com")), rows(c, "SELECT email AS e FROM users WHERE id = 1"));
            assertEquals(List.of(List.of("j***@example.com")), rows(c, "SELECT s.x FROM (SELECT email AS x FROM users) s WHERE s.x LIKE 'jane%'"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT lower(email) FROM users WHERE id = 1",
            "SELECT concat(name, ' <', email, '>') FROM users WHERE id = 1",
            "SELECT row_to_json(u)::text FROM users u WHERE id = 1",
            "SELECT row_to_json(u) FROM users u WHERE id = 1",
            "SELECT profile FROM users WHERE id = 1",
            "SELECT email || '' FROM users WHERE id = 1",
            "SELECT array_agg(email)::text FROM users",
            "SELECT card_number || '' FROM payments WHERE id = 1",
            "SELECT upper(ssn) FROM customers WHERE id = 1",
            "SELECT 'call ' || phone FROM users WHERE id = 1",
            "SELECT note FROM customers WHERE id = 1"})
    void detectors_catch_what_escapes_the_column_rules(String sql) throws Exception {
        for (boolean binary : new boolean[] {false, true}) {
            try (Connection c = jdbc("bob", PolicyTargets.DEV, binary)) {
                String all = rows(c, sql).toString();
                for (String secret : List.of("jane.doe", "john.roe", "ann@", "4242424242424242", "42424242", "123-45-6789",
                        "202-555-0142", "GB82WEST1234", "eyJhbGciOiJIUzI1NiJ9.")) {
                    assertFalse(all.contains(secret), sql + " leaked " + secret + ": " + all);
                }
            }
        }
        String viaPsql = psql("agent-ci", PolicyTargets.DEV, sql + ";");
        assertFalse(viaPsql.contains("jane.doe@") || viaPsql.contains("4242424242424242"), viaPsql);
    }

    @Test
    void detectors_leave_ordinary_values_alone() throws Exception {
        try (Connection c = jdbc("bob", PolicyTargets.DEV, false)) {
            assertEquals(List.of(List.of("Jane Doe", "12.50", "nothing to see")),
                    rows(c, "SELECT u.name, p.amount::text, (SELECT note FROM customers WHERE id = 2) FROM users u JOIN payments p ON p.user_id = u.id WHERE u.id = 1"));
        }
    }

    @Test
    void copy_to_stdout_is_masked_in_text_and_csv() throws Exception {
        String text = psql("alice", PolicyTargets.PROD, "COPY users (id, email, phone) TO STDOUT;");
        assertEquals("1\tj***@example.com\t+*-***-***-**42\n2\tj***@example.org\t+** ** **** **58\n3\ta***@example.net\t+*-***-***-**99\n", text);
        String csv = psql("alice", PolicyTargets.PROD, "COPY (SELECT id, card_number FROM payments ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);");
        assertEquals("id,card_number\n1,\"**** **** **** 4242\"\n2,\"**** **** **** 4444\"\n", csv);
        String whole = psql("agent-backup", PolicyTargets.PROD, "COPY customers TO STDOUT WITH CSV DELIMITER ';';");
        assertFalse(whole.contains("123-45-6789") || whole.contains("TX-1001") || whole.contains("key-123"), whole);
        assertTrue(whole.startsWith("1;\"***-**-6789\";"), whole);
    }

    @Test
    void binary_copy_of_masked_columns_is_refused_before_it_runs() throws Exception {
        Cli.Result r = Cli.psql(TestStack.token("alice"), PolicyTargets.PROD, "COPY users TO STDOUT WITH (FORMAT binary);\nSELECT 'still here';\n");
        assertTrue(r.all().contains("cannot be masked in binary format"), r.all());
        assertTrue(r.stdout().contains("still here"), r.all());
        String unmasked = psql("alice", PolicyTargets.PROD, "COPY (SELECT id FROM users ORDER BY id) TO STDOUT WITH (FORMAT binary);");
        assertTrue(unmasked.startsWith("PGCOPY"), "a binary COPY of columns nobody masks still works");
    }

    @Test
    void cursors_and_portal_fetches_are_masked() throws Exception {
        try (Connection c = jdbc("alice", PolicyTargets.DEV, false)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT email FROM users ORDER BY id")) {
                ps.setFetchSize(1); // Execute with a row limit: PortalSuspended between the rows
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> emails = new ArrayList<>();
                    while (rs.next()) {
                        emails.add(rs.getString(1));
                    }
                    assertEquals(List.of("j***@example.com", "j***@example.org", "a***@example.net"), emails);
                }
            }
            c.createStatement().execute("DECLARE cur CURSOR FOR SELECT email FROM users ORDER BY id");
            assertEquals(List.of(List.of("j***@example.com")), rows(c, "FETCH 1 FROM cur"));
            c.rollback();
        }
    }

    @Test
    void an_unmasked_result_is_not_touched() throws Exception {
        try (Connection c = jdbc("alice", PolicyTargets.PROD, false)) {
            assertEquals(List.of(List.of("1", "Jane Doe", "{vip}")), rows(c, "SELECT id, name, tags FROM users WHERE id = 1"));
        }
    }

    @Test
    void a_session_goes_on_after_a_masked_result() throws Exception {
        try (Connection c = jdbc("bob", PolicyTargets.DEV, false)) {
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("DELETE FROM nope"));
            assertTrue(e.getMessage().contains("nope") || e.getMessage().contains("Portcullis"), e.getMessage());
            assertEquals(List.of(List.of("j***@example.com")), rows(c, "SELECT email FROM users WHERE id = 1"));
        }
    }
}
