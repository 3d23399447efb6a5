import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.TokenRequest;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.OAuth2Exception;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.RequestMapping;
import no.nav.security.mock.oauth2.token.RequestMappingTokenCallback;

/**
 * Starts the stock mock-oauth2-server (no.nav.security:mock-oauth2-server) from its standard JSON config, with
 * one addition: several {@code tokenCallbacks} entries may share an {@code issuerId}, each with its own
 * {@code tokenExpiry}. The stock server uses only the first entry per issuer, so a per-client lifetime (the
 * dev stack's {@code agent-short-lived} identity, whose tokens live 2 seconds) cannot be expressed otherwise.
 *
 * <p>For a token request, the first entry whose request mappings match supplies claims and lifetime. A request
 * that matches no mapping is refused with {@code invalid_client}, so a typo in a client id fails loudly rather
 * than minting a token without claims.
 *
 * <p>Same environment variables as the stock standalone server: JSON_CONFIG_PATH, SERVER_HOSTNAME, SERVER_PORT.
 */
public final class PortcullisMockOidc {

    public static void main(String[] args) throws Exception {
        String configPath = requiredEnv("JSON_CONFIG_PATH");
        InetAddress host = InetAddress.getByName(requiredEnv("SERVER_HOSTNAME"));
        int port = Integer.parseInt(requiredEnv("SERVER_PORT"));

        OAuth2Config stock = OAuth2Config.Companion.fromJson(Files.readString(Path.of(configPath)));

        Map<String, List<RequestMappingTokenCallback>> byIssuer = new LinkedHashMap<>();
        Set<OAuth2TokenCallback> callbacks = new LinkedHashSet<>();
        for (OAuth2TokenCallback callback : stock.getTokenCallbacks()) {
            if (callback instanceof RequestMappingTokenCallback mapping) {
                byIssuer.computeIfAbsent(mapping.issuerId(), k -> new ArrayList<>()).add(mapping);
            } else {
                callbacks.add(callback);
            }
        }
        byIssuer.forEach((issuerId, entries) -> callbacks.add(new PerClientCallback(issuerId, entries)));

        OAuth2Config config = stock.copy(
                stock.getInteractiveLogin(),
                stock.getLoginPagePath(),
                stock.getStaticAssetsPath(),
                stock.getRotateRefreshToken(),
                stock.getTokenProvider(),
                callbacks,
                stock.getHttpServer());

        MockOAuth2Server server = new MockOAuth2Server(config);
        server.start(host, port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "mock-oidc-shutdown"));
        System.err.printf("mock-oauth2-server listening on http://%s:%d (issuers: %s)%n",
                host.getHostAddress(), port, byIssuer.keySet());
    }

    private static String requiredEnv(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("environment variable " + name + " is required");
        }
        return value;
    }

    /**
     * Picks, per token request, the first configured entry with a matching request mapping. The callback
     * interface asks for the lifetime without the request, after subject/audience/claims on the same thread
     * (OAuth2TokenProvider), so the chosen entry is remembered per thread for {@link #tokenExpiry()}.
     */
    static final class PerClientCallback implements OAuth2TokenCallback {
        private final String issuerId;
        private final List<RequestMappingTokenCallback> entries;
        private final ThreadLocal<RequestMappingTokenCallback> chosen = new ThreadLocal<>();

        PerClientCallback(String issuerId, List<RequestMappingTokenCallback> entries) {
            this.issuerId = issuerId;
            this.entries = List.copyOf(entries);
        }

        private RequestMappingTokenCallback pick(TokenRequest request) {
            for (RequestMappingTokenCallback entry : entries) {
                for (RequestMapping mapping : entry.getRequestMappings()) {
                    if (mapping.isMatch(request, Map.of())) {
                        chosen.set(entry);
                        return entry;
                    }
                }
            }
            chosen.remove();
            String client = request.getClientAuthentication() != null
                    ? request.getClientAuthentication().getClientID().getValue()
                    : request.getClientID() != null ? request.getClientID().getValue() : "(none)";
            throw new OAuth2Exception(OAuth2Error.INVALID_CLIENT,
                    "unknown client '" + client + "' for issuer '" + issuerId + "' (see dev-services/oidc/mock-oauth2.json)");
        }

        @Override
        public String issuerId() {
            return issuerId;
        }

        @Override
        public String subject(TokenRequest request) {
            return pick(request).subject(request);
        }

        @Override
        public String typeHeader(TokenRequest request) {
            return pick(request).typeHeader(request);
        }

        @Override
        public List<String> audience(TokenRequest request) {
            return pick(request).audience(request);
        }

        @Override
        public Map<String, Object> addClaims(TokenRequest request) {
            return pick(request).addClaims(request);
        }

        @Override
        public long tokenExpiry() {
            RequestMappingTokenCallback entry = chosen.get();
            return (entry != null ? entry : entries.get(0)).tokenExpiry();
        }
    }
}
