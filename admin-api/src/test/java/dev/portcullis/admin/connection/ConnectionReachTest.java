package dev.portcullis.admin.connection;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.portcullis.admin.OidcTokens;
import dev.portcullis.contract.testing.StackEnv;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /connections/{name}/test for kubernetes and ssh connections, against the stack's real kube-apiserver (with the
 * gateway's client certificate and its ServiceAccount token, .stack/kube/) and its real sshd (with the gateway's login
 * key and the target's host key, .stack/ssh/). Each failure a user meets is tried: a wrong CA, a changed host key, a
 * refused credential, an unreachable host; no credential ever comes back or reaches the log.
 */
@QuarkusTest
class ConnectionReachTest {
    private static final Path KUBE = StackEnv.ROOT.resolve(".stack/kube");
    private static final Path SSH = StackEnv.ROOT.resolve(".stack/ssh");
    private static String clusterCa;
    private static String clientCertificate;
    private static String serviceAccountToken;
    private static String otherCa;
    private static String loginKey;
    private static String hostKey;
    private static String otherKey;
    private static String otherHostKey;

    private final List<String> names = new ArrayList<>();
    private final List<String> bodies = new ArrayList<>();

    @BeforeAll
    static void credentials() throws Exception {
        clusterCa = Files.readString(KUBE.resolve("pki/ca.crt"));
        clientCertificate = Files.readString(KUBE.resolve("gateway.crt")) + Files.readString(KUBE.resolve("gateway.key"));
        serviceAccountToken = Files.readString(KUBE.resolve("gateway.token")).strip();
        loginKey = Files.readString(SSH.resolve("gateway_login_ed25519"));
        String[] host = Files.readString(SSH.resolve("target_host_ed25519_key.pub")).strip().split(" ");
        hostKey = host[0] + " " + host[1];
        Path dir = Files.createTempDirectory("conn-reach");
        run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=another-ca", "-keyout", "other-ca.key", "-out", "other-ca.crt");
        otherCa = Files.readString(dir.resolve("other-ca.crt"));
        run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", "stranger");
        otherKey = Files.readString(dir.resolve("stranger"));
        run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", "impostor");
        otherHostKey = Files.readString(dir.resolve("impostor.pub")).strip();
    }

    @AfterEach
    void removeAndCheckNoSecretWasAnsweredOrLogged() throws IOException {
        for (String name : names) {
            asAdmin().delete("/connections/" + name);
        }
        List<String> secrets = List.of(serviceAccountToken, keyLine(clientCertificate), keyLine(loginKey), keyLine(otherKey));
        String logged = Files.readString(Path.of("target/quarkus-test.log"));
        for (String secret : secrets) {
            for (String body : bodies) {
                assertFalse(body.contains(secret), "an answer holds a secret: " + body);
            }
            assertFalse(logged.contains(secret), "the log holds a secret (" + secret.substring(0, 8) + "...)");
        }
    }

    @Test
    void aClusterIsReachedWithItsClientCertificateOrTokenAndSaysWhoTheCredentialIs() {
        test(kubernetes(clientCertificate, clusterCa, true)).body("ok", equalTo(true))
                .body("server_version", startsWith("v1."))
                .body("identity", equalTo("portcullis-gateway (groups system:authenticated)"))
                .body("detail", allOf(containsString("client certificate"), containsString("may impersonate users")));
        test(kubernetes(serviceAccountToken, clusterCa, false)).body("ok", equalTo(true))
                .body("identity", startsWith("system:serviceaccount:portcullis-system:portcullis-gateway"))
                .body("detail", containsString("does not impersonate: requests run with this credential's own rights"));
    }

    @Test
    void aClusterTestSaysWhatFailed() throws IOException {
        test(kubernetes(clientCertificate, otherCa, true)).body("ok", equalTo(false)).body("server_version", nullValue())
                .body("detail", containsString("the API server's certificate is not signed by the connection's CA (tls_ca_pem)"));
        test(kubernetes("not-a-token-the-cluster-knows-" + UUID.randomUUID(), clusterCa, true)).body("ok", equalTo(false))
                .body("detail", containsString("refused the connection's credential (401 Unauthorized)"));
        Map<String, Object> closed = kubernetes(clientCertificate, clusterCa, true);
        int port = closedPort();
        closed.put("api_server_url", "https://127.0.0.1:" + port);
        test(closed).body("ok", equalTo(false)).body("detail", containsString("cannot reach the API server at https://127.0.0.1:"
                + port));
        // the ServiceAccount's token works, but a connection that impersonates needs a credential that may: the sshd's
        // port speaks no TLS at all, which is said too
        Map<String, Object> notTls = kubernetes(clientCertificate, clusterCa, true);
        notTls.put("api_server_url", "https://127.0.0.1:" + StackEnv.port("SSH_TARGET_PORT"));
        test(notTls).body("ok", equalTo(false)).body("detail", containsString("TLS with https://127.0.0.1:"));
    }

    @Test
    void aHostIsLoggedInToWithTheRegisteredHostKeyAndNoChannel() {
        test(ssh(loginKey, hostKey, StackEnv.port("SSH_TARGET_PORT"))).body("ok", equalTo(true))
                .body("server_version", containsString("OpenSSH"))
                .body("identity", equalTo(System.getProperty("user.name")))
                .body("detail", allOf(containsString("is the registered one"), containsString("no channel was opened")));
    }

    @Test
    void aHostTestSaysWhatFailed() throws IOException {
        test(ssh(loginKey, otherHostKey, StackEnv.port("SSH_TARGET_PORT"))).body("ok", equalTo(false))
                .body("detail", allOf(containsString("presented host key SHA256:"), containsString("not the one registered"),
                        containsString("someone may be impersonating it")));
        test(ssh(otherKey, hostKey, StackEnv.port("SSH_TARGET_PORT"))).body("ok", equalTo(false))
                .body("detail", containsString("refused the login of " + System.getProperty("user.name")));
        int port = closedPort();
        test(ssh(loginKey, hostKey, port)).body("ok", equalTo(false))
                .body("detail", containsString("cannot reach " + StackEnv.host() + ":" + port));
        Response audit = asAdmin().get("/audit?target=connection/" + names.get(0) + "&action=connection.test");
        bodies.add(audit.asString());
        audit.then().statusCode(200).body("items[0].details.outcome", equalTo("error"));
    }

    private ValidatableResponse test(Map<String, Object> connection) {
        String name = "reach-" + UUID.randomUUID().toString().substring(0, 8);
        connection.put("name", name);
        names.add(name);
        asAdmin().contentType(ContentType.JSON).body(connection).post("/connections").then().statusCode(201);
        Response answer = asAdmin().post("/connections/" + name + "/test");
        bodies.add(answer.asString());
        return answer.then().statusCode(200).body("connection", equalTo(name));
    }

    private static Map<String, Object> kubernetes(String credential, String ca, boolean impersonate) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "kubernetes");
        body.put("api_server_url", StackEnv.get("KUBE_APISERVER_URL"));
        body.put("credential", credential);
        body.put("tls_ca_pem", ca);
        body.put("impersonate", impersonate);
        return body;
    }

    private static Map<String, Object> ssh(String key, String host, int port) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "ssh");
        body.put("host", StackEnv.host());
        body.put("port", port);
        body.put("username", System.getProperty("user.name"));
        body.put("credential", key);
        body.put("host_key", host);
        return body;
    }

    /** A loopback port nothing listens on. */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The first line of key material after a private key's BEGIN line: seen anywhere, the key leaked. */
    private static String keyLine(String pem) {
        return pem.lines().dropWhile(l -> !l.contains("PRIVATE KEY")).skip(1).findFirst().orElseThrow();
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }
}
