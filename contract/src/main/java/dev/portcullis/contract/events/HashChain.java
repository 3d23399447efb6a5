package dev.portcullis.contract.events;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The tamper evidence of a recording: {@code h_n = SHA-256(h_(n-1) || canonical JSON of event n)}, with
 * {@code h_0} = 32 zero bytes. Changing, dropping or reordering a stored event changes every later link.
 */
public final class HashChain {
    public static final int HASH_BYTES = 32;
    /** One digest per thread: looking one up per link cost the recorder more than hashing a short event. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(HashChain::sha256);

    private HashChain() {
    }

    /** {@code h_0}: the link before a session's first event. */
    public static byte[] start() {
        return new byte[HASH_BYTES];
    }

    /** @param canonicalEvent the event as {@link CanonicalJson#write} writes it */
    public static byte[] next(byte[] previous, byte[] canonicalEvent) {
        if (previous == null || previous.length != HASH_BYTES) {
            throw new IllegalArgumentException("a chain link is " + HASH_BYTES + " bytes");
        }
        MessageDigest sha256 = SHA_256.get(); // digest() resets it for the next link
        sha256.update(previous);
        sha256.update(canonicalEvent);
        return sha256.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
