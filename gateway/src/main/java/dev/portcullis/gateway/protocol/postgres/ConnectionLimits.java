package dev.portcullis.gateway.protocol.postgres;

import java.util.concurrent.ConcurrentHashMap;

/**
 * How many client connections one source address, and one identity, may hold at once
 * ({@code portcullis.postgres.max-connections-per-source} and {@code -per-identity}). A source counts from accept
 * (logged in or not), an identity from login. Counts of zero are dropped, so the maps hold only live keys. Thread-safe.
 */
final class ConnectionLimits {
    private final int perSource;
    private final int perIdentity;
    private final ConcurrentHashMap<String, Integer> sources = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> identities = new ConcurrentHashMap<>();

    ConnectionLimits(int perSource, int perIdentity) {
        this.perSource = perSource;
        this.perIdentity = perIdentity;
    }

    int perSource() {
        return perSource;
    }

    int perIdentity() {
        return perIdentity;
    }

    /** @return whether the source may hold one more connection; if so, it is counted until {@link #leaveSource} */
    boolean admitSource(String source) {
        return admit(sources, source, perSource);
    }

    void leaveSource(String source) {
        leave(sources, source);
    }

    /** @return whether the identity may hold one more connection; if so, it is counted until {@link #leaveIdentity} */
    boolean admitIdentity(String identity) {
        return admit(identities, identity, perIdentity);
    }

    void leaveIdentity(String identity) {
        leave(identities, identity);
    }

    private static boolean admit(ConcurrentHashMap<String, Integer> counts, String key, int limit) {
        boolean[] admitted = {false};
        counts.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limit) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    private static void leave(ConcurrentHashMap<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
}
