package dev.portcullis.admin.connection;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * {@code POST /connections/{name}/test} for a kubernetes connection: reaches its API server as the gateway does (https,
 * for verify-full the connection's CA and the server's name; its sealed credential, a bearer token or a PEM client
 * certificate), then asks the server's version, who the credential is ({@code SelfSubjectReview}, Kubernetes 1.28+) and,
 * when the connection impersonates, whether the credential may impersonate users ({@code SelfSubjectAccessReview}). The
 * whole test gives up after {@link TargetLogin#LOGIN_TIMEOUT}; each answer is read up to {@value #MAX_ANSWER_BYTES}
 * bytes; what it says never contains the credential.
 */
@ApplicationScoped
public class ClusterLogin {
    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----[A-Za-z0-9+/=\\s]+-----END \\1-----");
    /** /version and the reviews are a few hundred bytes; anything far larger is not an API server's answer to them. */
    static final int MAX_ANSWER_BYTES = 64 * 1024;

    private final Vertx vertx;

    ClusterLogin(Vertx vertx) {
        this.vertx = vertx;
    }

    private record Answer(int status, JsonObject body) {
    }

    private static final class TooLarge extends RuntimeException {
        TooLarge() {
            super("an answer larger than " + MAX_ANSWER_BYTES + " bytes", null, false, false);
        }
    }

    Uni<ConnectionProbe.Reached> reach(ConnectionEntity c, String credential) {
        String where = ConnectionTypes.apiServerUrl(c.host, c.port);
        boolean certificate = credential.contains("-----BEGIN");
        HttpClient http;
        try {
            http = vertx.getDelegate().createHttpClient(options(c, credential, certificate));
        } catch (RuntimeException e) {
            // Vert.x reads the PEM blocks here; its message could quote them, so only the kind of failure is said
            return Uni.createFrom().failure(new TargetLogin.LoginFailed("the client credential of connection '" + c.name
                    + "' cannot be used for TLS (" + e.getClass().getSimpleName() + "); set its CERTIFICATE and PRIVATE KEY"
                    + " again with PUT"));
        }
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Accept", "application/json");
        if (!certificate) {
            headers.add("Authorization", "Bearer " + credential.strip());
        }
        boolean impersonates = !Boolean.FALSE.equals(c.settings == null ? null : c.settings.get(ConnectionTypes.IMPERSONATE_SETTING));
        JsonObject review = new JsonObject().put("apiVersion", "authentication.k8s.io/v1").put("kind", "SelfSubjectReview");
        JsonObject mayImpersonate = new JsonObject().put("apiVersion", "authorization.k8s.io/v1").put("kind", "SelfSubjectAccessReview")
                .put("spec", new JsonObject().put("resourceAttributes", new JsonObject().put("verb", "impersonate")
                        .put("resource", "users")));
        Future<ConnectionProbe.Reached> tried = call(http, HttpMethod.GET, "/version", headers, null).compose(version -> {
            refused(version, where);
            return call(http, HttpMethod.POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers, review)
                    .compose(who -> {
                        refused(who, where);
                        Future<Answer> access = impersonates
                                ? call(http, HttpMethod.POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", headers,
                                        mayImpersonate)
                                : Future.succeededFuture(null);
                        return access.map(may -> reached(c, where, certificate, version, who, may));
                    });
        });
        return Uni.createFrom().completionStage(tried.toCompletionStage())
                .ifNoItem().after(TargetLogin.LOGIN_TIMEOUT).failWith(TimeoutException::new)
                .onFailure(e -> !(e instanceof TargetLogin.LoginFailed))
                .transform(e -> new TargetLogin.LoginFailed(scrubbed(describe(e, where, c), credential)))
                .onTermination().invoke(() -> http.close());
    }

    /** What the answers say, in words; fails when the server refused the credential or it may not do what the gateway needs. */
    private static ConnectionProbe.Reached reached(ConnectionEntity c, String where, boolean certificate, Answer version,
            Answer who, Answer may) {
        String gitVersion = version.status() == 200 && version.body() != null ? version.body().getString("gitVersion") : null;
        JsonObject user = who.status() == 201 && who.body() != null
                ? who.body().getJsonObject("status", new JsonObject()).getJsonObject("userInfo", new JsonObject()) : null;
        String username = user == null ? null : user.getString("username");
        if ("system:anonymous".equals(username)) {
            throw new TargetLogin.LoginFailed("the API server at " + where + " sees the connection's credential as"
                    + " system:anonymous: " + (certificate ? "its client certificate is not signed by a CA the API server trusts"
                    : "it ignored the token") + "; register a credential the cluster knows");
        }
        List<String> groups = new ArrayList<>();
        if (user != null) {
            JsonArray g = user.getJsonArray("groups", new JsonArray());
            for (int i = 0; i < g.size() && i < 32; i++) {
                groups.add(String.valueOf(g.getValue(i)));
            }
        }
        String identity = username == null ? null : groups.isEmpty() ? username : username + " (groups " + String.join(", ", groups) + ")";
        StringBuilder detail = new StringBuilder("reached the API server at " + where + " with the connection's "
                + (certificate ? "client certificate" : "bearer token") + ", TLS " + c.tlsMode);
        detail.append(identity == null ? "; it did not say who the credential is (SelfSubjectReview answered " + who.status() + ")"
                : "; the credential is " + identity);
        if (may != null) {
            boolean allowed = may.status() == 201 && may.body() != null
                    && may.body().getJsonObject("status", new JsonObject()).getBoolean("allowed", false);
            if (!allowed) {
                throw new TargetLogin.LoginFailed(detail + "; but it may not impersonate users, and connection '" + c.name
                        + "' impersonates each identity (impersonate: true): grant the credential the impersonate verb on"
                        + " users and groups, or set impersonate to false");
            }
            detail.append("; it may impersonate users, as the connection does");
        } else {
            detail.append("; the connection does not impersonate: requests run with this credential's own rights");
        }
        return new ConnectionProbe.Reached(detail.toString(), gitVersion, identity);
    }

    /** A 401 anywhere means the API server did not take the credential. */
    private static void refused(Answer answer, String where) {
        if (answer.status() == 401) {
            throw new TargetLogin.LoginFailed("the API server at " + where + " refused the connection's credential (401"
                    + " Unauthorized): the token is unknown, expired or revoked, or the client certificate is not one the"
                    + " cluster accepts; register a valid credential with PUT");
        }
    }

    private static Future<Answer> call(HttpClient http, HttpMethod method, String uri, MultiMap headers, JsonObject body) {
        RequestOptions options = new RequestOptions().setMethod(method).setURI(uri).setHeaders(MultiMap.caseInsensitiveMultiMap()
                .addAll(headers));
        return http.request(options).compose(request -> {
            if (body != null) {
                request.putHeader("Content-Type", "application/json");
            }
            return body == null ? request.send() : request.send(body.toBuffer());
        }).compose(response -> {
            Promise<Answer> answer = Promise.promise();
            Buffer read = Buffer.buffer();
            response.handler(chunk -> {
                if (read.length() + chunk.length() > MAX_ANSWER_BYTES) {
                    response.request().reset();
                    answer.tryFail(new TooLarge());
                } else {
                    read.appendBuffer(chunk);
                }
            });
            response.exceptionHandler(answer::tryFail);
            response.endHandler(v -> {
                JsonObject json;
                try {
                    json = read.length() == 0 ? null : new JsonObject(read);
                } catch (RuntimeException notJson) {
                    json = null;
                }
                answer.tryComplete(new Answer(response.statusCode(), json));
            });
            return answer.future();
        });
    }

    private static HttpClientOptions options(ConnectionEntity c, String credential, boolean certificate) {
        boolean verify = !TlsMode.REQUIRE.equals(c.tlsMode); // the admin API stores require or verify-full for kubernetes
        HttpClientOptions options = new HttpClientOptions().setSsl(true).setVerifyHost(verify).setTrustAll(!verify)
                .setDefaultHost(c.host).setDefaultPort(c.port).setConnectTimeout((int) TargetLogin.LOGIN_TIMEOUT.toMillis())
                .setMaxPoolSize(1);
        if (verify && c.tlsCaPem != null && !c.tlsCaPem.isBlank()) {
            options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(c.tlsCaPem)));
        }
        if (certificate) {
            StringBuilder certs = new StringBuilder();
            String key = null;
            Matcher m = PEM_BLOCK.matcher(credential);
            while (m.find()) {
                if (m.group(1).equals("CERTIFICATE")) {
                    certs.append(m.group()).append('\n');
                } else if (m.group(1).endsWith("PRIVATE KEY")) {
                    key = m.group();
                }
            }
            if (certs.isEmpty() || key == null) {
                throw new IllegalArgumentException("no CERTIFICATE and PRIVATE KEY");
            }
            options.setKeyCertOptions(new PemKeyCertOptions().addCertValue(Buffer.buffer(certs.toString())).addKeyValue(Buffer.buffer(key)));
        }
        return options;
    }

    private static String describe(Throwable failure, String where, ConnectionEntity c) {
        // Vert.x wraps the handshake's own exception ("Failed to create SSL connection"): read the whole chain
        Throwable cause = failure;
        StringBuilder chain = new StringBuilder();
        for (Throwable t = failure; t != null && chain.length() < 4096; t = t.getCause()) {
            chain.append(t.getMessage()).append(" / ");
            if (t instanceof SSLException || t instanceof ConnectException || t instanceof UnknownHostException) {
                cause = cause instanceof SSLException ? cause : t;
            }
        }
        String text = chain.toString();
        if (cause instanceof TimeoutException) {
            return "no answer from the API server at " + where + " within " + TargetLogin.LOGIN_TIMEOUT.toSeconds() + " s";
        }
        if (cause instanceof UnknownHostException) {
            return "the host of " + where + " is unknown";
        }
        if (cause instanceof ConnectException) {
            return "cannot reach the API server at " + where + ": " + cause.getMessage();
        }
        if (cause instanceof SSLException) {
            if (text.contains("PKIX") || text.contains("certification path")) {
                return "TLS with " + where + " failed: the API server's certificate is not signed by the connection's CA"
                        + (c.tlsCaPem == null ? " (no tls_ca_pem: the JVM's trust store)" : " (tls_ca_pem)")
                        + "; register the cluster's CA as tls_ca_pem";
            }
            if (text.contains("subject alternative") || text.contains("No name matching")) {
                return "TLS with " + where + " failed: the API server's certificate does not name " + c.host
                        + "; use the name in its certificate in api_server_url";
            }
            return "TLS with " + where + " failed: " + text.substring(0, text.length() - 3);
        }
        if (cause instanceof TooLarge) {
            return "the server at " + where + " sent " + cause.getMessage() + ": it is not a Kubernetes API server";
        }
        return "calling the API server at " + where + " failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private static String scrubbed(String message, String credential) {
        String token = credential.strip();
        return token.isEmpty() ? message : message.replace(token, "***");
    }
}
