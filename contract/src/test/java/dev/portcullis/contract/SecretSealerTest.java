package dev.portcullis.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SecretSealerTest {
    private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);
    private final SecretSealer sealer = SecretSealer.fromBase64Key(KEY);

    @Test
    void sealed_secret_opens_for_its_own_connection() {
        byte[] sealed = sealer.seal("orders-prod", "s3cr3t-pässword");
        assertEquals("s3cr3t-pässword", sealer.open("orders-prod", sealed));
        assertFalse(new String(sealed, StandardCharsets.ISO_8859_1).contains("s3cr3t"), "ciphertext must not contain the plaintext");
    }

    @Test
    void sealed_secret_moved_to_another_connection_does_not_open() {
        byte[] sealed = sealer.seal("orders-prod", "pw");
        var e = assertThrows(SecretSealer.SealedSecretException.class, () -> sealer.open("orders-dev", sealed));
        assertFalse(e.getMessage().contains("pw"));
    }

    @Test
    void tampered_or_truncated_secret_is_rejected() {
        byte[] sealed = sealer.seal("c", "pw");
        sealed[sealed.length - 1] ^= 1;
        assertThrows(SecretSealer.SealedSecretException.class, () -> sealer.open("c", sealed));
        assertThrows(SecretSealer.SealedSecretException.class, () -> sealer.open("c", new byte[5]));
        assertThrows(SecretSealer.SealedSecretException.class, () -> sealer.open("c", null));
    }

    @Test
    void wrong_key_is_rejected() {
        byte[] other = new byte[32];
        other[0] = 1;
        byte[] sealed = SecretSealer.fromBase64Key(Base64.getEncoder().encodeToString(other)).seal("c", "pw");
        assertThrows(SecretSealer.SealedSecretException.class, () -> sealer.open("c", sealed));
    }

    @Test
    void key_of_wrong_size_or_encoding_is_refused_with_a_hint() {
        var e = assertThrows(IllegalArgumentException.class, () -> SecretSealer.fromBase64Key("c2hvcnQ="));
        assertEquals(true, e.getMessage().contains("openssl rand -base64 32"));
        assertThrows(IllegalArgumentException.class, () -> SecretSealer.fromBase64Key("not base64!!"));
    }
}
