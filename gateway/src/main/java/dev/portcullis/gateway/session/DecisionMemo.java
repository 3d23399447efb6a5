package dev.portcullis.gateway.session;

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
public final class DecisionMemo {
    private static final int MAX_ENTRIES = 256;

    private record Entry(Object request, Decision decision, long expiresAtNanos) {
    }

    /**
     * A remembered decision and the request it was made for: an earlier instance, which callers may use instead of
     * theirs, so what they derive from it (its recorded form) can be found by identity.
     */
    public record Hit(Object request, Decision decision) {
    }

    private final long maxTtlNanos;

    public DecisionMemo(java.time.Duration maxTtl) {
        this.maxTtlNanos = maxTtl.toNanos();
    }

    private final Map<Object, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /** The remembered decision for {@code key} under {@code revision}, or null. */
    public Hit get(Object key, String revision) {
        if (revision == null) {
            return null;
        }
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        if (!revision.equals(e.decision().revision()) || System.nanoTime() - e.expiresAtNanos() > 0) {
            entries.remove(key);
            return null;
        }
        return new Hit(e.request(), e.decision());
    }

    /** Forgets every decision: what they were decided on (the identity's grants) changed. */
    public void clear() {
        entries.clear();
    }

    /**
     * @param key     compared by value: the decision input's request part, a record graph
     * @param request what the decision was made for, handed back by {@link #get}
     */
    public void put(Object key, Object request, Decision decision) {
        if (decision.revision() == null || decision.cacheTtlS() <= 0) {
            return;
        }
        long ttl = Math.min(TimeUnit.SECONDS.toNanos(decision.cacheTtlS()), maxTtlNanos);
        entries.put(key, new Entry(request, decision, System.nanoTime() + ttl));
    }
}
