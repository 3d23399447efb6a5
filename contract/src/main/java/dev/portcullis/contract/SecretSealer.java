package dev.portcullis.contract;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals connection secrets at rest with AES-256-GCM.
 *
 * <p>Layout: {@code version(1) || nonce(12) || ciphertext || tag(16)}. The connection name is bound in
 * as associated data, so a sealed secret copied onto another connection's row fails to open instead of
 * handing that connection someone else's password.
 */
public final class SecretSealer {
    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private SecretSealer(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /** @param base64Key 32 random bytes, base64-encoded (for example {@code openssl rand -base64 32}) */
    public static SecretSealer fromBase64Key(String base64Key) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64Key == null ? "" : base64Key.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the secret key is not valid base64; generate one with: openssl rand -base64 32");
        }
        if (raw.length != 32) {
            throw new IllegalArgumentException("the secret key must be 32 bytes (AES-256), got " + raw.length
                    + "; generate one with: openssl rand -base64 32");
        }
        return new SecretSealer(raw);
    }

    public byte[] seal(String connectionName, String secret) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, connectionName, nonce);
            byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length).put(VERSION).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    /** @throws SealedSecretException when the blob is malformed, tampered with, or sealed for another connection or key */
    public String open(String connectionName, byte[] sealed) {
        if (sealed == null || sealed.length < 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
            throw new SealedSecretException("the stored secret of connection '" + connectionName + "' is malformed");
        }
        try {
            byte[] nonce = java.util.Arrays.copyOfRange(sealed, 1, 1 + NONCE_BYTES);
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, connectionName, nonce);
            byte[] plain = cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
            return new String(plain, StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new SealedSecretException("the stored secret of connection '" + connectionName
                    + "' cannot be opened with the configured key (wrong key, or the row was tampered with)");
        }
    }

    /**
     * A 32-byte key for another purpose, derived from the sealing key (HMAC-SHA-256 of the purpose's name), so
     * one configured secret serves several uses without using one key for two.
     */
    public byte[] derive(String purpose) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return mac.doFinal(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Cipher cipher(int mode, String connectionName, byte[] nonce) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(("portcullis/connection/" + connectionName).getBytes(StandardCharsets.UTF_8));
        return cipher;
    }

    /** A stored secret that cannot be opened. The message never contains secret material. */
    public static final class SealedSecretException extends RuntimeException {
        public SealedSecretException(String message) {
            super(message);
        }
    }
}
