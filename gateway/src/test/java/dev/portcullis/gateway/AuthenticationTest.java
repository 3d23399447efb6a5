package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The token is the password: every way it can be wrong gets a FATAL error that names the check, never the token. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class AuthenticationTest {

    @BeforeEach
    void target() throws Exception {
        TargetDatabases.ensure();
    }

    private static Map<Character, String> loginError(String database, String token) throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> messages = c.login(database, token);
            RawPgClient.Message last = messages.get(messages.size() - 1);
            assertEquals('E', last.type(), "expected an ErrorResponse, got " + messages);
            assertTrue(c.closedByServer(), "the gateway must close the connection after a FATAL error");
            String all = new String(c.receivedBytes(), StandardCharsets.UTF_8);
            if (token.length() > 20) {
                assertFalse(all.contains(token), "the error must never echo the token");
                assertFalse(all.contains(token.substring(token.lastIndexOf('.') + 1)), "the error must never echo the token signature");
            }
            return last.fields();
        }
    }

    @Test
    void valid_token_opens_a_session() throws Exception {
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> messages = c.login(TargetDatabases.CONNECTION, TestStack.token("agent-ci"));
            assertEquals('Z', messages.get(messages.size() - 1).type(), messages.toString());
            assertTrue(messages.stream().anyMatch(m -> m.type() == 'K'), "BackendKeyData is sent");
            assertTrue(messages.stream().anyMatch(m -> m.type() == 'S' && m.text().startsWith("server_version\0")),
                    "the backend's real ParameterStatus is relayed");
        }
    }

    @Test
    void user_name_must_be_the_tokens_identity() throws Exception {
        String alice = TestStack.token("alice");
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, "bob", alice);
            Map<Character, String> e = m.get(m.size() - 1).fields();
            assertEquals('E', m.get(m.size() - 1).type(), m.toString());
            assertEquals("FATAL", e.get('S'));
            assertEquals("28000", e.get('C'));
            assertEquals("user name \"bob\" does not match the access token, which is alice's", e.get('M'));
            assertEquals("connect with user=alice, or with an access token of bob", e.get('H'));
            assertTrue(c.closedByServer());
        }
        try (RawPgClient c = new RawPgClient(TestStack.gatewayPort())) {
            List<RawPgClient.Message> m = c.login(TargetDatabases.CONNECTION, "alice", alice);
            assertEquals('Z', m.get(m.size() - 1).type(), "alice's token with user=alice logs in: " + m);
        }
    }

    @Test
    void garbage_token_is_refused() throws Exception {
        Map<Character, String> e = loginError(TargetDatabases.CONNECTION, "not-a-token");
        assertEquals("FATAL", e.get('S'));
        assertEquals("28P01", e.get('C'));
        assertTrue(e.get('M').contains("not an OIDC access token"), e.toString());
    }

    @Test
    void token_with_forged_signature_is_refused() throws Exception {
        String token = TestStack.token("agent-ci");
        String forged = token.substring(0, token.lastIndexOf('.') + 1)
                + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[256]);
        Map<Character, String> e = loginError(TargetDatabases.CONNECTION, forged);
        assertEquals("28P01", e.get('C'));
        assertTrue(e.get('M').contains("signature"), e.toString());
    }

    @Test
    void token_with_edited_claims_is_refused() throws Exception {
        String[] parts = TestStack.token("agent-ci").split("\\.");
        String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("ci-readonly", "dba");
        String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(claims.getBytes(StandardCharsets.UTF_8))
                + "." + parts[2];
        Map<Character, String> e = loginError(TargetDatabases.CONNECTION, tampered);
        assertEquals("28P01", e.get('C'));
        assertTrue(e.get('M').contains("signature"), e.toString());
    }

    @Test
    void token_for_another_audience_is_refused() throws Exception {
        Map<Character, String> e = loginError(TargetDatabases.CONNECTION, TestStack.token("agent-wrong-aud"));
        assertEquals("28P01", e.get('C'));
        assertTrue(e.get('M').contains("audience"), e.toString());
    }

    @Test
    void expired_token_is_refused() throws Exception {
        String token = TestStack.token("agent-short-lived");
        Thread.sleep(3_500);
        Map<Character, String> e = loginError(TargetDatabases.CONNECTION, token);
        assertEquals("28P01", e.get('C'));
        assertTrue(e.get('M').contains("expired"), e.toString());
    }

    @Test
    void unknown_connection_is_refused_after_authentication() throws Exception {
        Map<Character, String> e = loginError("no-such-connection", TestStack.token("agent-ci"));
        assertEquals("3D000", e.get('C'));
        assertTrue(e.get('M').contains("\"no-such-connection\" is not registered"), e.toString());
    }

    @Test
    void unknown_connection_is_not_revealed_before_authentication() throws Exception {
        Map<Character, String> e = loginError("no-such-connection", "not-a-token");
        assertEquals("28P01", e.get('C'), "a bad token must fail first, whatever the connection name");
    }
}
