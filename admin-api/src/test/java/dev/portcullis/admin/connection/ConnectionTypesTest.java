package dev.portcullis.admin.connection;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.SecretSealer;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kubernetes and SSH connections through /connections, against the stack's real PostgreSQL and OIDC issuer, with keys
 * and certificates made by the real ssh-keygen and openssl. The rows are read back in the shape the gateway's engines
 * read (ConnectionRegistry: type, host, port, username, tls_mode, tls_ca_pem, sealed secret, settings).
 */
@QuarkusTest
class ConnectionTypesTest {
    private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.token-" + UUID.randomUUID();
    private static String sshPrivateKey;
    private static String sshKeyWithPassphrase;
    private static String sshHostKey;
    private static String clientCertAndKey;
    private static String caPem;

    @Inject
    AgroalDataSource db;

    @ConfigProperty(name = "PORTCULLIS_SECRET_KEY")
    String secretKey;

    @BeforeAll
    static void makeKeys() throws Exception {
        Path dir = Files.createTempDirectory("conn-types");
        run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "login", "-f", "login");
        run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@target", "-f", "host");
        sshPrivateKey = Files.readString(dir.resolve("login"));
        run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-C", "locked", "-f", "locked");
        sshKeyWithPassphrase = Files.readString(dir.resolve("locked"));
        sshHostKey = Files.readString(dir.resolve("host.pub")).strip();
        run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=portcullis-gateway", "-keyout", "client.key", "-out", "client.crt");
        clientCertAndKey = Files.readString(dir.resolve("client.crt")) + Files.readString(dir.resolve("client.key"));
        caPem = Files.readString(dir.resolve("client.crt"));
    }

    @Test
    void sshConnectionIsCreatedReadUpdatedAndDeletedWithoutItsKeyEverShown() throws SQLException {
        String name = uniqueName();
        List<String> bodies = new ArrayList<>();
        Response created = asAdmin().body(ssh(name)).post("/connections");
        bodies.add(created.asString());
        created.then().statusCode(201)
                .body("type", equalTo("ssh"))
                .body("username", equalTo("deploy"))
                .body("tls_mode", equalTo("disable"))
                .body("has_secret", equalTo(true))
                .body("settings.host_key", equalTo(withoutComment(sshHostKey)))
                .body("database", nullValue());

        Response one = asAdmin().get("/connections/" + name);
        bodies.add(one.asString());
        one.then().statusCode(200).body("settings.host_key", equalTo(withoutComment(sshHostKey)));

        Map<String, Object> changed = ssh(name);
        changed.remove("credential");
        changed.put("port", 2222);
        Response updated = asAdmin().header("If-Match", one.header("ETag")).body(changed).put("/connections/" + name);
        bodies.add(updated.asString());
        updated.then().statusCode(200).body("port", equalTo(2222)).body("has_secret", equalTo(true));
        assertNotEquals(one.header("ETag"), updated.header("ETag"));
        asAdmin().header("If-Match", one.header("ETag")).body(changed).put("/connections/" + name).then().statusCode(412);

        // what the gateway's SSH engine reads: username, the sealed private key, settings.host_key and nothing else
        Map<String, String> row = row(name);
        assertEquals("ssh", row.get("type"));
        assertEquals("deploy", row.get("username"));
        assertNull(row.get("database"));
        assertEquals("disable", row.get("tls_mode"));
        assertEquals("{\"host_key\": \"" + withoutComment(sshHostKey) + "\"}", row.get("settings"));
        assertEquals(sshPrivateKey, SecretSealer.fromBase64Key(secretKey).open(name, storedSecret(name)));

        // the test reaches for the target (box.internal is nowhere): ConnectionReachTest tries real ones
        asAdmin().post("/connections/" + name + "/test").then().statusCode(200).body("ok", equalTo(false));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
        asAdmin().get("/connections/" + name).then().statusCode(404);

        assertNoSecretIn(bodies);
        assertNoSecretIn(auditDetails(name));
    }

    @Test
    void kubernetesConnectionWithAClientCertificateOrATokenIsStoredSealed() throws SQLException {
        String name = uniqueName();
        List<String> bodies = new ArrayList<>();
        Response created = asAdmin().body(kubernetes(name, clientCertAndKey)).post("/connections");
        bodies.add(created.asString());
        created.then().statusCode(201)
                .body("type", equalTo("kubernetes"))
                .body("tls_mode", equalTo("verify-full"))
                .body("tls_ca_pem", equalTo(caPem))
                .body("has_secret", equalTo(true))
                .body("api_server_url", equalTo("https://127.0.0.1:6443"))
                .body("settings.impersonate", equalTo(true))
                .body("username", nullValue());

        // what the gateway's Kubernetes engine reads: host, port, tls_mode, tls_ca_pem, the sealed credential, impersonate
        Map<String, String> row = row(name);
        assertEquals("kubernetes", row.get("type"));
        assertEquals("127.0.0.1", row.get("host"));
        assertEquals("6443", row.get("port"));
        assertEquals("verify-full", row.get("tls_mode"));
        assertEquals("{\"impersonate\": true}", row.get("settings"));
        assertNull(row.get("username"));
        assertEquals(clientCertAndKey, SecretSealer.fromBase64Key(secretKey).open(name, storedSecret(name)));

        Response one = asAdmin().get("/connections/" + name);
        bodies.add(one.asString());
        Map<String, Object> changed = kubernetes(name, TOKEN);
        changed.put("api_server_url", "https://[::1]/");
        changed.put("impersonate", false);
        Response updated = asAdmin().header("If-Match", one.header("ETag")).body(changed).put("/connections/" + name);
        bodies.add(updated.asString());
        updated.then().statusCode(200).body("has_secret", equalTo(true))
                .body("api_server_url", equalTo("https://[::1]:443")).body("settings.impersonate", equalTo(false));
        assertEquals(TOKEN, SecretSealer.fromBase64Key(secretKey).open(name, storedSecret(name)));
        row = row(name);
        assertEquals("::1", row.get("host"));
        assertEquals("443", row.get("port"));
        assertEquals("{\"impersonate\": false}", row.get("settings"));
        bodies.add(asAdmin().get("/connections").asString());

        asAdmin().delete("/connections/" + name).then().statusCode(204);
        assertNoSecretIn(bodies);
        assertNoSecretIn(auditDetails(name));
    }

    @Test
    void eachTypeRefusesWhatItDoesNotTakeNamingTheField() {
        Map<String, Object> noHostKey = ssh(uniqueName());
        noHostKey.remove("host_key");
        expectInvalid(noHostKey, "host_key", "is required");

        Map<String, Object> badHostKey = ssh(uniqueName());
        badHostKey.put("host_key", "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ"); // an RSA blob labelled ed25519
        expectInvalid(badHostKey, "host_key", "does not hold a ssh-ed25519 key");
        badHostKey.put("host_key", "ssh-dss AAAAB3NzaC1kc3M=");
        expectInvalid(badHostKey, "host_key", "OpenSSH public key line");
        badHostKey.put("host_key", "ssh-ed25519 not*base64");
        expectInvalid(badHostKey, "host_key", "base64");

        Map<String, Object> postgresField = ssh(uniqueName());
        postgresField.put("database", "orders");
        expectInvalid(postgresField, "database", "not allowed on a ssh connection");
        Map<String, Object> sshPassword = ssh(uniqueName());
        sshPassword.put("password", "hunter2-hunter2");
        expectInvalid(sshPassword, "password", "private key only");
        Map<String, Object> noLogin = ssh(uniqueName());
        noLogin.remove("username");
        expectInvalid(noLogin, "username", "is required");
        Map<String, Object> noKey = ssh(uniqueName());
        noKey.remove("credential");
        expectInvalid(noKey, "credential", "is required");
        Map<String, Object> notAKey = ssh(uniqueName());
        notAKey.put("credential", "just a password");
        expectInvalid(notAKey, "credential", "must be a private key");
        Map<String, Object> lockedKey = ssh(uniqueName());
        lockedKey.put("credential", sshKeyWithPassphrase);
        expectInvalid(lockedKey, "credential", "without a passphrase");
        Map<String, Object> sshTls = ssh(uniqueName());
        sshTls.put("tls_mode", "require");
        expectInvalid(sshTls, "tls_mode", "disable");

        Map<String, Object> plainKube = kubernetes(uniqueName(), TOKEN);
        plainKube.put("tls_mode", "disable");
        expectInvalid(plainKube, "tls_mode", "only over TLS");
        Map<String, Object> certWithoutKey = kubernetes(uniqueName(), caPem);
        expectInvalid(certWithoutKey, "credential", "exactly one PRIVATE KEY");
        expectInvalid(kubernetes(uniqueName(), "short token"), "credential", "bearer token");
        Map<String, Object> kubeHostKey = kubernetes(uniqueName(), TOKEN);
        kubeHostKey.put("host_key", sshHostKey);
        expectInvalid(kubeHostKey, "host_key", "for ssh connections");
        Map<String, Object> kubeNoCredential = kubernetes(uniqueName(), null);
        expectInvalid(kubeNoCredential, "credential", "is required");
        Map<String, Object> kubeNoUrl = kubernetes(uniqueName(), TOKEN);
        kubeNoUrl.remove("api_server_url");
        expectInvalid(kubeNoUrl, "api_server_url", "is required");
        Map<String, Object> kubeHost = kubernetes(uniqueName(), TOKEN);
        kubeHost.put("host", "127.0.0.1");
        expectInvalid(kubeHost, "host", "api_server_url");
        Map<String, Object> kubePort = kubernetes(uniqueName(), TOKEN);
        kubePort.put("port", 6443);
        expectInvalid(kubePort, "port", "api_server_url");
        Map<String, String> badUrls = new LinkedHashMap<>();
        badUrls.put("http://127.0.0.1:6443", "only over https, not http");
        badUrls.put("127.0.0.1:6443", "must be the API server as https://host[:port]");
        badUrls.put("https://127.0.0.1:6443/clusters/prod", "no path, query or fragment");
        badUrls.put("https://127.0.0.1:6443?x=1", "no path, query or fragment");
        badUrls.put("https://admin:" + TOKEN + "@127.0.0.1:6443", "no user info");
        badUrls.put("https://:6443", "names no host");
        badUrls.put("https://api.internal:99999", "between 1 and 65535");
        badUrls.put("https://api internal", "not a URL");
        badUrls.forEach((url, expected) -> {
            Map<String, Object> body = kubernetes(uniqueName(), TOKEN);
            body.put("api_server_url", url);
            expectInvalid(body, "api_server_url", expected);
        });
        Map<String, Object> kubeImpersonateNotBoolean = kubernetes(uniqueName(), TOKEN);
        kubeImpersonateNotBoolean.put("impersonate", "no");
        asAdmin().body(kubeImpersonateNotBoolean).post("/connections").then().statusCode(400);
        Map<String, Object> sshImpersonates = ssh(uniqueName());
        sshImpersonates.put("impersonate", true);
        expectInvalid(sshImpersonates, "impersonate", "for kubernetes connections");
        Map<String, Object> sshUrl = ssh(uniqueName());
        sshUrl.put("api_server_url", "https://box.internal");
        expectInvalid(sshUrl, "api_server_url", "for kubernetes connections");

        Map<String, Object> postgresWithKey = new LinkedHashMap<>(Map.of("name", uniqueName(), "type", "postgres",
                "host", "db.internal", "port", 5432, "database", "orders", "username", "owner", "host_key", sshHostKey));
        expectInvalid(postgresWithKey, "host_key", "not allowed on a postgres connection");
        Map<String, Object> unknown = ssh(uniqueName());
        unknown.put("type", "telnet");
        expectInvalid(unknown, "type", "postgres, kubernetes, ssh");
    }

    @Test
    void anSshConnectionListsTheOtherLoginsAClientMayName() throws SQLException {
        String name = uniqueName();
        Map<String, Object> body = ssh(name);
        body.put("logins", List.of("backup", "deploy", "backup", "_svc.ops-1"));
        asAdmin().body(body).post("/connections").then().statusCode(201)
                .body("settings.logins", equalTo(List.of("backup", "_svc.ops-1"))); // username and repeats dropped
        assertEquals("{\"logins\": [\"backup\", \"_svc.ops-1\"], \"host_key\": \"" + withoutComment(sshHostKey) + "\"}",
                row(name).get("settings"));
        asAdmin().delete("/connections/" + name).then().statusCode(204);

        for (String bad : List.of("Root", "-dash", "two words", "a".repeat(33), "x@y")) {
            Map<String, Object> badLogin = ssh(uniqueName());
            badLogin.put("logins", List.of(bad));
            asAdmin().body(badLogin).post("/connections").then().statusCode(400)
                    .body("errors[0].field", startsWith("logins"))
                    .body("errors[0].message", containsString("logins must be 1 to 32 characters"));
        }
        Map<String, Object> tooMany = ssh(uniqueName());
        tooMany.put("logins", java.util.stream.IntStream.range(0, 17).mapToObj(i -> "u" + i).toList());
        expectInvalid(tooMany, "logins", "at most 16");
        Map<String, Object> kubeLogins = kubernetes(uniqueName(), TOKEN);
        kubeLogins.put("logins", List.of("deploy"));
        expectInvalid(kubeLogins, "logins", "for ssh connections");
    }

    @Test
    void changingTheTypeNeedsTheNewTypesCredentialAndDropsTheOldOne() throws SQLException {
        String name = uniqueName();
        String etag = asAdmin().body(kubernetes(name, TOKEN)).post("/connections").then().statusCode(201).extract().header("ETag");
        Map<String, Object> toSsh = ssh(name);
        toSsh.remove("credential");
        asAdmin().header("If-Match", etag).body(toSsh).put("/connections/" + name).then().statusCode(400)
                .body("errors.field", hasItems("credential"));
        String sshEtag = asAdmin().header("If-Match", etag).body(ssh(name)).put("/connections/" + name).then()
                .statusCode(200).body("type", equalTo("ssh")).extract().header("ETag");

        // to postgres without a password: the SSH key must not stay behind as the database password
        Map<String, Object> toPostgres = new LinkedHashMap<>(Map.of("name", name, "type", "postgres", "host", "db.internal",
                "port", 5432, "database", "orders", "username", "owner"));
        asAdmin().header("If-Match", sshEtag).body(toPostgres).put("/connections/" + name).then().statusCode(200)
                .body("type", equalTo("postgres")).body("has_secret", equalTo(false)).body("settings.size()", equalTo(0));
        assertNull(storedSecret(name));
        asAdmin().delete("/connections/" + name).then().statusCode(204);
    }

    private static void expectInvalid(Map<String, Object> body, String field, String expected) {
        String answer = asAdmin().body(body).post("/connections").then().statusCode(400)
                .body("type", equalTo("https://portcullis.dev/problems/invalid-request"))
                .body("errors.field", hasItems(field))
                .body("errors.find { it.field == '" + field + "' }.message", containsString(expected))
                .extract().asString();
        assertNoSecretIn(List.of(answer));
    }

    private static void assertNoSecretIn(List<String> texts) {
        for (String text : texts) {
            assertFalse(text.contains(TOKEN), "a token is shown: " + text);
            assertFalse(text.contains(keyLine(sshPrivateKey)), "the SSH private key is shown: " + text);
            assertFalse(text.contains(keyLine(clientCertAndKey.substring(clientCertAndKey.indexOf("PRIVATE KEY")))),
                    "the client certificate's private key is shown: " + text);
            assertFalse(text.contains("\"credential\":"), "the credential field is shown: " + text);
        }
    }

    /** The first line of key material after a private key's BEGIN line: seen anywhere, the key leaked. */
    private static String keyLine(String pem) {
        return pem.lines().dropWhile(l -> !l.contains("PRIVATE KEY")).skip(1).findFirst().orElseThrow();
    }

    private static Map<String, Object> ssh(String name) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("type", "ssh");
        body.put("host", "box.internal");
        body.put("port", 22);
        body.put("username", "deploy");
        body.put("credential", sshPrivateKey);
        body.put("host_key", sshHostKey);
        body.put("tags", Map.of("env", "dev"));
        return body;
    }

    private static Map<String, Object> kubernetes(String name, String credential) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("type", "kubernetes");
        body.put("api_server_url", "https://127.0.0.1:6443");
        if (credential != null) {
            body.put("credential", credential);
        }
        body.put("tls_ca_pem", caPem);
        body.put("tags", Map.of("env", "prod"));
        return body;
    }

    private static String withoutComment(String line) {
        String[] parts = line.split(" ");
        return parts[0] + " " + parts[1];
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN)).contentType(ContentType.JSON);
    }

    private static String uniqueName() {
        return "types-" + UUID.randomUUID().toString().substring(0, 12);
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    private Map<String, String> row(String name) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT type, host, port::text, database, username, tls_mode,"
                        + " settings::text FROM connections WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "no row for " + name);
                Map<String, String> row = new java.util.HashMap<>();
                for (String column : List.of("type", "host", "port", "database", "username", "tls_mode", "settings")) {
                    row.put(column, rs.getString(row.size() + 1));
                }
                return row;
            }
        }
    }

    private byte[] storedSecret(String name) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT secret FROM connections WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next());
                return rs.getBytes(1);
            }
        }
    }

    private List<String> auditDetails(String name) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT details::text FROM admin_audit WHERE target = ?")) {
            s.setString(1, "connection/" + name);
            List<String> details = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    details.add(rs.getString(1));
                }
            }
            assertFalse(details.isEmpty(), "no audit entries for " + name);
            return details;
        }
    }
}
