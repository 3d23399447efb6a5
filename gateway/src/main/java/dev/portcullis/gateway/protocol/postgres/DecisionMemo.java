package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.policy.Decision;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A session's memory of decisions by request (the analysed statements: commands, tables, functions, the
 * literal-free text), so a repeated statement, even with other literals, skips input serialisation, hashing
 * and the shared cache. Sound for the same reason as the shared cache: within one session the rest of the
 * input never changes, requests whose analysis depends on session state (PREPARE, EXECUTE) are never kept,
 * and an entry only counts under the policy revision it was decided by, within its TTL. Small and bounded;
 * confined to the session's event loop.
 */
final class DecisionMemo {
    private static final int MAX_ENTRIES = 256;

    private record Entry(Object request, Decision decision, long expiresAtNanos) {
    }

    /**
     * A remembered decision and the request it was made for: an earlier, equal instance, which callers may use
     * instead of theirs, so what they derive from it (its recorded form) can be found by identity.
     */
    record Hit(Object request, Decision decision) {
    }

    private final long maxTtlNanos;

    DecisionMemo(java.time.Duration maxTtl) {
        this.maxTtlNanos = maxTtl.toNanos();
    }

    private final Map<Object, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /** The remembered decision for this request under {@code revision}, or null. */
    Hit get(Object request, String revision) {
        if (revision == null) {
            return null;
        }
        Entry e = entries.get(request);
        if (e == null) {
            return null;
        }
        if (!revision.equals(e.decision().revision()) || System.nanoTime() - e.expiresAtNanos() > 0) {
            entries.remove(request);
            return null;
        }
        return new Hit(e.request(), e.decision());
    }

    /** @param request compared by value: a record graph such as {@code PgRequests.PgRequest} */
    void put(Object request, Decision decision) {
        if (decision.revision() == null || decision.cacheTtlS() <= 0) {
            return;
        }
        long ttl = Math.min(TimeUnit.SECONDS.toNanos(decision.cacheTtlS()), maxTtlNanos);
        entries.put(request, new Entry(request, decision, System.nanoTime() + ttl));
    }
}
