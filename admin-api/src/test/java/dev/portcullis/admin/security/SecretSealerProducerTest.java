package dev.portcullis.admin.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.AdminApiConfig;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The admin API must not start without a usable sealing key, and must say how to make one. */
class SecretSealerProducerTest {

    @Test
    void aMissingKeyStopsStartupWithHowToFixIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> produce(null));
        assertTrue(e.getMessage().contains("PORTCULLIS_SECRET_KEY"), e.getMessage());
        assertTrue(e.getMessage().contains("openssl rand -base64 32"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> produce("  "));
    }

    @Test
    void aKeyOfTheWrongSizeStopsStartup() {
        String sixteenBytes = Base64.getEncoder().encodeToString(new byte[16]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> produce(sixteenBytes));
        assertTrue(e.getMessage().contains("32 bytes"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> produce("not base64 !!"));
    }

    @Test
    void aGoodKeySealsAndOpens() {
        var sealer = produce(Base64.getEncoder().encodeToString(new byte[32]));
        assertEquals("s3cret", sealer.open("orders", sealer.seal("orders", "s3cret")));
    }

    private static dev.portcullis.contract.SecretSealer produce(String key) {
        return new SecretSealerProducer().secretSealer(new AdminApiConfig() {
            @Override
            public Optional<String> secretKey() {
                return Optional.ofNullable(key);
            }

            @Override
            public String oidcIssuer() {
                return "http://issuer.invalid";
            }
        });
    }
}
