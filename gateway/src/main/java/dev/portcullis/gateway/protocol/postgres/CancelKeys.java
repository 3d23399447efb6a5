package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.session.Session;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cancel keys this replica handed its PostgreSQL clients (BackendKeyData), and whose session each is: a
 * CancelRequest arrives on a connection of its own, with nothing but the key. The backend's real key never leaves
 * the gateway.
 */
final class CancelKeys {
    /** A key as the client sees it. */
    record Key(int processId, int secret) {
        long packed() {
            return ((long) processId << 32) | (secret & 0xffffffffL);
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<Long, Session> sessions = new ConcurrentHashMap<>();

    /** A fresh key for the session, unused by any other. */
    Key issue(Session session) {
        while (true) {
            Key key = new Key(random.nextInt() & 0x7fffffff, random.nextInt());
            if (sessions.putIfAbsent(key.packed(), session) == null) {
                return key;
            }
        }
    }

    void forget(Key key, Session session) {
        sessions.remove(key.packed(), session);
    }

    Optional<Session> find(int processId, int secret) {
        return Optional.ofNullable(sessions.get(new Key(processId, secret).packed()));
    }
}
