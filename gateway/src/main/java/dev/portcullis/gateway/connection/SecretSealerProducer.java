package dev.portcullis.gateway.connection;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.GatewayConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The one {@link SecretSealer} of the gateway: opens connection credentials at use and derives the masking hash key. */
public class SecretSealerProducer {
    @Produces
    @Singleton
    SecretSealer sealer(GatewayConfig config) {
        return SecretSealer.fromBase64Key(config.secretKey());
    }
}
