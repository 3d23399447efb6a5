package dev.portcullis.gateway.session;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live sessions of this replica, by session id, whatever their protocol: for kill (a NOTIFY reaches every
 * replica; the one holding the session ends it) and for the drain at shutdown. Holds no shared state: other replicas
 * learn nothing from it.
 */
@ApplicationScoped
public class SessionRegistry {
    private final Map<String, Session> byId = new ConcurrentHashMap<>();

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
        return s != null && s.kill(message);
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
