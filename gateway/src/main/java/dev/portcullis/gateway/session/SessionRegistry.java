package dev.portcullis.gateway.session;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live sessions of this replica, by session id, whatever their protocol: for kill (a NOTIFY reaches every
 * replica; the one holding the session ends it) and for the drain at shutdown. Holds no shared state: other replicas
 * learn nothing from it.
 */
@ApplicationScoped
public class SessionRegistry {
    private final Map<String, Session> byId = new ConcurrentHashMap<>();
    /** Sessions being opened (token, registry, policy): not in {@link #byId} yet, and the drain waits for them too. */
    private final AtomicInteger opening = new AtomicInteger();
    private volatile boolean draining;

    /** A session starts opening, unless the replica drains: then it is refused (false). */
    boolean admit() {
        opening.incrementAndGet();
        if (draining) {
            opening.decrementAndGet();
            return false;
        }
        return true;
    }

    /** A session admitted by {@link #admit()} was opened (and registered) or refused. */
    void admitted() {
        opening.decrementAndGet();
    }

    /** From now on no session opens here; see {@link Drain}. */
    void drain() {
        draining = true;
    }

    /** Whether the replica is draining (shutting down): not ready for new sessions. */
    public boolean draining() {
        return draining;
    }

    /** Sessions live or being opened. */
    int liveOrOpening() {
        return byId.size() + opening.get();
    }

    /** Ends every live session (the drain's end): {@code message} is the client's. @return how many */
    int killAll(String reason, String message) {
        int n = 0;
        for (Session s : byId.values()) {
            if (s.kill(reason, message)) {
                n++;
            }
        }
        return n;
    }

    void register(Session session) {
        byId.put(session.id(), session);
    }

    void unregister(Session session) {
        byId.remove(session.id(), session);
    }

    /**
     * Ends the session if this replica holds it.
     *
     * @return whether it did
     */
    public boolean kill(String sessionId, String message) {
        Session s = byId.get(sessionId);
        return s != null && s.kill(Session.END_KILLED, message);
    }

    /** An identity's grants changed (null: anyone's may have): its sessions on this replica read them again. */
    public void grantsChanged(String subject) {
        byId.values().forEach(s -> {
            if (subject == null || s.identity().subject().equals(subject)) {
                s.reloadGrants();
            }
        });
    }

    public int size() {
        return byId.size();
    }

    /** The live sessions, at most {@code max} of them (the oldest first). */
    public java.util.List<Session> live(int max) {
        return byId.values().stream().sorted(java.util.Comparator.comparing(Session::startedAt)).limit(max).toList();
    }
}
