package dev.portcullis.admin.security;

import dev.portcullis.admin.AdminApiConfig;
import dev.portcullis.contract.SecretSealer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Builds the {@link SecretSealer} at startup, so a missing or malformed key stops the app before it
 * serves a request rather than on the first write of a password.
 */
@ApplicationScoped
public class SecretSealerProducer {

    // @Singleton, not @ApplicationScoped: SecretSealer is final and cannot have a client proxy.
    @Produces
    @Startup
    @Singleton
    SecretSealer secretSealer(AdminApiConfig config) {
        String key = config.secretKey().filter(k -> !k.isBlank()).orElseThrow(() -> new IllegalStateException(
                "portcullis.secret-key (environment variable PORTCULLIS_SECRET_KEY) is not set. The admin API needs it"
                        + " to seal connection passwords. Set it to the same 32-byte base64 key the gateway uses;"
                        + " for a new installation generate one with: openssl rand -base64 32"));
        try {
            return SecretSealer.fromBase64Key(key);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("portcullis.secret-key (PORTCULLIS_SECRET_KEY) is unusable: " + e.getMessage(), e);
        }
    }
}
