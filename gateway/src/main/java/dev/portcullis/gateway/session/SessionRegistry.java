package dev.portcullis.gateway.session;

import jakarta.enterprise.context.ApplicationScoped;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live sessions of this replica, by session id (for kill) and by the cancel key the gateway handed the
 * client (for CancelRequest). Holds no shared state: other replicas learn nothing from it.
 */
@ApplicationScoped
public class SessionRegistry {
    private final SecureRandom random = new SecureRandom();
    private final Map<String, LiveSession> byId = new ConcurrentHashMap<>();
    private final Map<Long, LiveSession> byCancelKey = new ConcurrentHashMap<>();

    /** A session the registry can end or cancel, whatever protocol it speaks. */
    public interface LiveSession {
        String id();

        /** Ends the session because an administrator asked to. */
        void kill();

        /** Cancels the running query, if any. */
        void cancel();
    }

    /** A fresh, unused cancel key for a new session (process id and secret as the client sees them). */
    public CancelKey newCancelKey() {
        while (true) {
            CancelKey key = new CancelKey(random.nextInt() & 0x7fffffff, random.nextInt());
            if (!byCancelKey.containsKey(key.packed())) {
                return key;
            }
        }
    }

    public void register(LiveSession session, CancelKey key) {
        byId.put(session.id(), session);
        byCancelKey.put(key.packed(), session);
    }

    public void unregister(LiveSession session, CancelKey key) {
        byId.remove(session.id(), session);
        if (key != null) {
            byCancelKey.remove(key.packed(), session);
        }
    }

    /** @return whether this replica held the session */
    public boolean kill(String sessionId) {
        LiveSession s = byId.get(sessionId);
        if (s == null) {
            return false;
        }
        s.kill();
        return true;
    }

    public Optional<LiveSession> byCancelKey(int processId, int secret) {
        return Optional.ofNullable(byCancelKey.get(new CancelKey(processId, secret).packed()));
    }

    public int size() {
        return byId.size();
    }

    public record CancelKey(int processId, int secret) {
        long packed() {
            return ((long) processId << 32) | (secret & 0xffffffffL);
        }
    }
}
