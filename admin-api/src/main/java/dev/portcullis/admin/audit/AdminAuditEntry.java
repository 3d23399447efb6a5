package dev.portcullis.admin.audit;

import dev.portcullis.admin.security.Actor;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import io.smallrye.mutiny.Uni;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * One admin action, written in the same transaction as the change it describes, so a change without its
 * audit row cannot be committed. {@code details} never holds secret values.
 */
@Entity
@Table(name = "admin_audit")
public class AdminAuditEntry extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    public OffsetDateTime at;

    @Column(name = "actor_subject")
    public String actorSubject;

    @Column(name = "actor_name")
    public String actorName;

    /** For example {@code connection.create}. */
    public String action;

    /** What was acted on, for example {@code connection/orders-prod}. */
    public String target;

    @JdbcTypeCode(SqlTypes.JSON)
    public Map<String, Object> details;

    /** Persists a new entry; call it inside the transaction of the change. */
    public static Uni<AdminAuditEntry> record(Actor actor, String action, String target, Map<String, Object> details) {
        AdminAuditEntry entry = new AdminAuditEntry();
        entry.at = OffsetDateTime.now();
        entry.actorSubject = actor.subject();
        entry.actorName = actor.name();
        entry.action = action;
        entry.target = target;
        entry.details = details;
        return entry.persist();
    }

    /**
     * Says, for the current transaction, that the admin API audits its connection changes itself, so that the
     * database's own audit of SQL changes (migration V9) leaves them alone. Call it first in the transaction, before
     * any change is flushed.
     */
    public static Uni<Void> changesAuditedHere() {
        return Panache.getSession()
                .chain(db -> db.createNativeQuery("SELECT set_config('portcullis.audited_by_api', 'on', true)")
                        .getSingleResult())
                .replaceWithVoid();
    }
}
