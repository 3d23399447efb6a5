package dev.portcullis.admin;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Settings of the admin API. Each one can also be set as an environment variable (PORTCULLIS_...). */
@ConfigMapping(prefix = "portcullis")
public interface AdminApiConfig {

    /**
     * The key that seals connection passwords at rest: 32 random bytes, base64-encoded
     * ({@code openssl rand -base64 32}). Every admin-api and gateway replica must use the same key.
     * The app refuses to start without it.
     */
    Optional<String> secretKey();

    /**
     * Issuer URL of the OIDC provider whose access tokens the API accepts. Discovery is fetched from
     * {@code <issuer>/.well-known/openid-configuration}.
     */
    @WithDefault("${MOCK_OIDC_ISSUER}")
    String oidcIssuer();
}
