package dev.portcullis.admin.audit;

import dev.portcullis.admin.security.Actor;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Audit rows written outside an entity transaction, through the reactive pool (usable from any thread, an S3 worker's
 * included): reads ({@link #read}), and calls the API refused before any endpoint ran ({@link #refused}).
 * <p>
 * Refusals: no or a bad token (401), the admin policy's refusal (403), no
 * policy decision (503). One {@code admin_audit} row each: who (the token's subject, or {@code (anonymous)}), the
 * action asked for, the path as target, and the outcome, status, reason and source address. Never a token or a body.
 * A refusal is sent even when its audit row cannot be written (that is logged): refusing never waits on the audit.
 */
@ApplicationScoped
public class AuditLog {
    private static final Logger LOG = Logger.getLogger(AuditLog.class);
    /** Paths are cut to this length in the audit: a path is the client's, and may be long. */
    private static final int MAX_TARGET = 512;

    private final Pool db;

    AuditLog(Pool db) {
        this.db = db;
    }

    /**
     * Audits a read (of a recording): one row, or a failure, so that the caller can refuse to show what it could not
     * audit.
     */
    public Uni<Void> read(Actor actor, String action, String target, Map<String, Object> details) {
        return insert(actor.subject(), actor.name(), action, target, details);
    }

    /** @param action the admin action asked for, or the HTTP method when no endpoint was matched */
    public Uni<Void> refused(String subject, String name, String action, String method, String path, int status,
            String reason, String source) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("outcome", "refused");
        details.put("status", status);
        details.put("method", method);
        details.put("reason", reason);
        details.put("source", source);
        String target = path.length() > MAX_TARGET ? path.substring(0, MAX_TARGET) : path;
        return insert(subject, name, action, target, details)
                .onFailure().recoverWithItem(failure -> {
                    LOG.errorf("cannot audit a refused call (%s %s, %d): %s", method, target, status, failure.getMessage());
                    return null;
                });
    }

    private Uni<Void> insert(String subject, String name, String action, String target, Map<String, Object> details) {
        return db.preparedQuery("INSERT INTO admin_audit (actor_subject, actor_name, action, target, details)"
                        + " VALUES ($1, $2, $3, $4, $5)")
                .execute(Tuple.of(subject, name, action, target, new JsonObject(details)))
                .replaceWithVoid();
    }
}
