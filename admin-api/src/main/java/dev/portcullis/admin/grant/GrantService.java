package dev.portcullis.admin.grant;

import dev.portcullis.admin.approval.DatabaseTime;
import dev.portcullis.admin.approval.Times;
import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.Actor;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Parameters;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Lists grants and revokes them. A revocation is an update of the row, audited in its transaction; the table's
 * trigger tells every gateway, which stop counting the grant within a second.
 */
@ApplicationScoped
public class GrantService {

    /** @param active true: only active grants; false: only revoked or expired ones; null: all */
    @WithSession
    public Uni<List<GrantView>> list(String identity, String connection, Boolean active, int limit) {
        StringBuilder query = new StringBuilder("1 = 1");
        Parameters parameters = new Parameters();
        if (identity != null) {
            query.append(" and identitySubject = :identity");
            parameters.and("identity", identity);
        }
        if (connection != null) {
            query.append(" and connectionName = :connection");
            parameters.and("connection", connection);
        }
        return DatabaseTime.now().chain(now -> {
            if (active != null) {
                query.append(active ? " and revokedAt is null and expiresAt > :now" : " and (revokedAt is not null or expiresAt <= :now)");
                parameters.and("now", now);
            }
            return GrantEntity.<GrantEntity>find(query.toString(), Sort.descending("createdAt").and("id"), parameters)
                    .range(0, limit - 1).list()
                    .map(rows -> rows.stream().map(g -> GrantView.of(g, now)).toList());
        });
    }

    @WithTransaction
    public Uni<GrantView> revoke(UUID id, Actor actor, String source) {
        return GrantEntity.<GrantEntity>findById(id, LockModeType.PESSIMISTIC_WRITE)
                .onItem().ifNull().failWith(() -> ApiException.notFound("grant " + id + " does not exist; GET /grants lists them"))
                .chain(grant -> DatabaseTime.now().chain(now -> {
                    if (grant.revokedAt != null) {
                        return Uni.createFrom().failure(ApiException.conflict("grant " + id + " was revoked at "
                                + Times.format(grant.revokedAt) + " by " + grant.revokedBy + "; there is nothing left to revoke"));
                    }
                    boolean wasActive = grant.activeAt(now);
                    grant.revokedAt = now;
                    grant.revokedBy = actor.name();
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("identity", grant.identitySubject);
                    details.put("connection", grant.connectionName);
                    details.put("scope", grant.scope);
                    details.put("expires_at", Times.format(grant.expiresAt));
                    details.put("was_active", wasActive);
                    details.put("approval_request_id", grant.approvalRequestId == null ? null : grant.approvalRequestId.toString());
                    details.put("source", source);
                    return AdminAuditEntry.record(actor, "grant.revoke", "grant/" + id, details)
                            .replaceWith(GrantView.of(grant, now));
                }));
    }
}
