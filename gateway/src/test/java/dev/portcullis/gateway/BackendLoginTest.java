package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway logs in to the backend with the stored credentials, whatever method the backend asks for and
 * whatever TLS mode the connection uses, and the password never reaches the client.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class BackendLoginTest {

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    /** Runs a query through a fresh session and returns every byte the client received, decrypted. */
    private static String sessionBytes(String connection) throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> login = c.login(connection, TestStack.token("alice"));
            assertEquals('Z', login.get(login.size() - 1).type(), login.toString());
            c.sendString('Q', "SELECT current_user || ':' || current_setting('ssl_library', true) AS who, "
                    + "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls");
            List<RawPgClient.Message> result = c.readUntil('Z');
            assertTrue(result.stream().anyMatch(m -> m.type() == 'D'), result.toString());
            c.send('X', new byte[0]);
            return new String(c.receivedBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @ParameterizedTest(name = "{0} password, tls {1}")
    @CsvSource({"scram-sha-256, require", "scram-sha-256, disable", "md5, require", "password, require", "trust, disable"})
    void each_backend_auth_method_works_and_the_password_never_reaches_the_client(String method, String tls) throws Exception {
        String role = switch (method) {
            case "scram-sha-256" -> TargetDatabases.SCRAM_ROLE;
            default -> "gw_test_" + method;
        };
        String password = method.equals("scram-sha-256") ? TargetDatabases.SCRAM_PASSWORD : TargetDatabases.randomPassword();
        if (!role.equals(TargetDatabases.SCRAM_ROLE)) {
            TargetDatabases.createRole(role, password, method.equals("md5") ? "md5" : "scram-sha-256");
        }
        String name = "gw-auth-" + method.replace("-", "") + "-" + tls;
        TestStack.registerConnection(name, TargetDatabases.DATABASE, role, method.equals("trust") ? null : password, tls, null, "{}");

        String received = sessionBytes(name);

        assertTrue(received.contains(role + ":"), "the query ran as the stored role: " + role);
        assertTrue(received.contains(tls.equals("disable") ? "\0\0\0\u0001f" : "\0\0\0\u0001t"), "backend TLS is " + tls);
        if (!method.equals("trust")) {
            assertFalse(received.contains(password), "the backend password must never reach the client");
        }
    }

    @Test
    void verify_full_checks_the_backend_certificate_against_the_connection_ca() throws Exception {
        String ca = Files.readString(TestStack.ROOT.resolve(".stack/tls/ca.crt"));
        TestStack.registerConnection("gw-auth-verify-full", TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE,
                TargetDatabases.SCRAM_PASSWORD, "verify-full", ca, "{}");
        assertTrue(sessionBytes("gw-auth-verify-full").contains(TargetDatabases.SCRAM_ROLE + ":"));
    }

    @Test
    void verify_full_refuses_a_backend_whose_certificate_the_ca_did_not_sign() throws Exception {
        // the JVM's default trust store does not know the stack's private CA
        TestStack.registerConnection("gw-auth-verify-untrusted", TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE,
                TargetDatabases.SCRAM_PASSWORD, "verify-full", null, "{}");
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> m = c.login("gw-auth-verify-untrusted", TestStack.token("alice"));
            RawPgClient.Message last = m.get(m.size() - 1);
            assertEquals('E', last.type(), m.toString());
            assertEquals("08006", last.fields().get('C'));
            assertTrue(last.fields().get('M').contains("TLS to the backend failed"), last.fields().toString());
        }
    }

    @Test
    void wrong_stored_password_gives_a_clear_error_without_backend_details() throws Exception {
        String wrong = TargetDatabases.randomPassword();
        TestStack.registerConnection("gw-auth-wrong", TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE, wrong, "require", null, "{}");
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> m = c.login("gw-auth-wrong", TestStack.token("alice"));
            RawPgClient.Message last = m.get(m.size() - 1);
            assertEquals("08006", last.fields().get('C'), m.toString());
            assertTrue(last.fields().get('M').contains("could not open connection \"gw-auth-wrong\""), last.fields().toString());
            String all = new String(c.receivedBytes(), StandardCharsets.ISO_8859_1);
            assertFalse(all.contains(wrong));
            assertFalse(all.contains(TargetDatabases.SCRAM_ROLE), "the backend role name stays inside the gateway");
        }
    }
}
