package dev.portcullis.gateway.protocol.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.portcullis.gateway.connection.TargetConnection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SSH user field names a connection, or a login and a connection; anything else is refused, never guessed at. */
class UserFieldTest {

    @Test
    void a_connection_alone_or_a_login_and_a_connection() {
        assertEquals(new UserField(null, "demo-box"), UserField.parse("demo-box"));
        assertEquals(new UserField("deploy", "demo-box"), UserField.parse("deploy@demo-box"));
        assertEquals(new UserField("_svc.ops-1", "box.internal"), UserField.parse("_svc.ops-1@box.internal"));
    }

    @Test
    void malformed_fields_are_refused() {
        for (String bad : new String[] {null, "", "@demo-box", "deploy@", "Deploy@demo-box", "deploy@Demo-Box", "a@b@demo-box",
                "de ploy@demo-box", "root\u0000@demo-box", "-x@demo-box", "x".repeat(33) + "@demo-box", "x".repeat(64),
                "deploy@demo-box ", "../etc@demo-box"}) {
            assertNull(UserField.parse(bad), String.valueOf(bad));
        }
    }

    @Test
    void only_the_connections_username_and_listed_logins_are_allowed() throws Exception {
        TargetConnection box = new TargetConnection("box", "ssh", "127.0.0.1", 22, null, "deploy", null,
                TargetConnection.TlsMode.DISABLE, null, Map.of(), Map.of("logins", List.of("backup", 7)));
        assertEquals("deploy", TargetLogin.loginFor(box, null));
        assertEquals("deploy", TargetLogin.loginFor(box, "deploy"));
        assertEquals("backup", TargetLogin.loginFor(box, "backup"));
        TargetLogin.Failed refused = org.junit.jupiter.api.Assertions.assertThrows(TargetLogin.Failed.class,
                () -> TargetLogin.loginFor(box, "root"));
        assertEquals("connection box does not allow login root on its target; it allows deploy, backup: name one as"
                + " <login>@box in the user field, or just box for deploy", refused.getMessage());
        TargetConnection noList = new TargetConnection("plain", "ssh", "127.0.0.1", 22, null, "deploy", null,
                TargetConnection.TlsMode.DISABLE, null, Map.of(), Map.of("logins", "backup"));
        org.junit.jupiter.api.Assertions.assertThrows(TargetLogin.Failed.class, () -> TargetLogin.loginFor(noList, "backup"),
                "a logins setting that is not a list allows nothing more");
    }
}
