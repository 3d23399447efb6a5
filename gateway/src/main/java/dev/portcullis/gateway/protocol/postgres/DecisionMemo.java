package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.policy.Decision;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A session's memory of decisions by statement text, so a repeated query skips analysis, input building and
 * hashing. Sound for the same reason as the shared cache: within one session the input is a function of the
 * text alone (texts whose analysis depends on session state, such as PREPARE and EXECUTE, are never kept),
 * and an entry only counts under the policy revision it was decided by, within its TTL. Small and bounded;
 * confined to the session's event loop.
 */
final class DecisionMemo {
    private static final int MAX_ENTRIES = 256;
    private static final int MAX_TEXT_CHARS = 4096;

    private record Entry(Decision decision, long expiresAtNanos) {
    }

    private final long maxTtlNanos;

    DecisionMemo(java.time.Duration maxTtl) {
        this.maxTtlNanos = maxTtl.toNanos();
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /** The remembered decision for this text under {@code revision}, or null. */
    Decision get(String text, String revision) {
        if (revision == null) {
            return null;
        }
        Entry e = entries.get(text);
        if (e == null) {
            return null;
        }
        if (!revision.equals(e.decision().revision()) || System.nanoTime() - e.expiresAtNanos() > 0) {
            entries.remove(text);
            return null;
        }
        return e.decision();
    }

    void put(String text, Decision decision) {
        if (decision.revision() == null || decision.cacheTtlS() <= 0 || text.length() > MAX_TEXT_CHARS) {
            return;
        }
        long ttl = Math.min(TimeUnit.SECONDS.toNanos(decision.cacheTtlS()), maxTtlNanos);
        entries.put(text, new Entry(decision, System.nanoTime() + ttl));
    }
}
