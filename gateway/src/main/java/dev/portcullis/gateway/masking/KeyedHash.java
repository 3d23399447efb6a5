package dev.portcullis.gateway.masking;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code hash} masking method: HMAC-SHA-256 under a key only the gateway holds, so equal values give equal
 * hashes (joins and group-bys keep working) but nobody without the key can test a guess against them.
 * Thread-safe.
 */
public final class KeyedHash {
    private static final int HEX_CHARS = 32;
    private final ThreadLocal<Mac> macs;

    /** @param key at least 32 bytes, derived from the gateway's secret key and used for nothing else */
    public KeyedHash(byte[] key) {
        if (key.length < 32) {
            throw new IllegalArgumentException("the masking hash key must have at least 32 bytes");
        }
        SecretKeySpec spec = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(spec);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The first 128 bits of the HMAC of the value's UTF-8 bytes, in lower-case hex. */
    public String hex(String value) {
        byte[] mac = macs.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(mac, 0, HEX_CHARS / 2);
    }
}
