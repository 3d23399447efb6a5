package dev.portcullis.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Real access tokens from the stack's mock-oauth2-server (client-credentials grant), one per client id. Its
 * config (dev-services/oidc) maps each client id to the claims of that machine identity.
 */
public final class OidcTokens {
    /** In group platform-admins. */
    public static final String ADMIN = "portcullis-admin";
    /** In group ci-readonly only. */
    public static final String AGENT_CI = "agent-ci";
    /** A person in groups dba and approvers. */
    public static final String ALICE = "alice";
    /** A person in group developers. */
    public static final String BOB = "bob";
    /** A person in group approvers only: the demo approver. */
    public static final String CAROL = "carol";
    /** A person in group auditors only. */
    public static final String DANA = "dana";
    /** A machine whose tokens are for another audience ({@code someone-else}): the API must refuse them. */
    public static final String WRONG_AUDIENCE = "agent-wrong-aud";

    private static final Map<String, String> TOKENS = new ConcurrentHashMap<>();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private OidcTokens() {
    }

    public static String of(String clientId) {
        return TOKENS.computeIfAbsent(clientId, OidcTokens::fetch);
    }

    private static String fetch(String clientId) {
        String issuer = ConfigProvider.getConfig().getValue("MOCK_OIDC_ISSUER", String.class);
        try {
            String tokenEndpoint = send(HttpRequest.newBuilder(URI.create(issuer + "/.well-known/openid-configuration"))
                    .GET()).get("token_endpoint").asText();
            String form = "grant_type=client_credentials&scope=openid&client_secret=unused-by-the-issuer&client_id="
                    + URLEncoder.encode(clientId, StandardCharsets.UTF_8);
            return send(HttpRequest.newBuilder(URI.create(tokenEndpoint))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form))).get("access_token").asText();
        } catch (IOException e) {
            throw new IllegalStateException("cannot get a token for " + clientId + " from " + issuer
                    + "; is the stack up? (dev-services/stack up --deps-only)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(request.timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(response.uri() + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
