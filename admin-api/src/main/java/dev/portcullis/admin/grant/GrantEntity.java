package dev.portcullis.admin.grant;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A row of {@code grants} (contract V7): a time-boxed grant an approval created. Active while not revoked and not
 * expired; every gateway puts the active ones into that identity's decision inputs (a trigger tells them of every
 * change).
 */
@Entity
@Table(name = "grants")
public class GrantEntity extends PanacheEntityBase {
    @Id
    public UUID id;
    @Column(name = "identity_subject")
    public String identitySubject;
    @Column(name = "connection_name")
    public String connectionName;
    public String scope;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    @Column(name = "expires_at")
    public OffsetDateTime expiresAt;
    @Column(name = "approval_request_id")
    public UUID approvalRequestId;
    @Column(name = "revoked_at")
    public OffsetDateTime revokedAt;
    @Column(name = "revoked_by")
    public String revokedBy;

    /** The grant an approval creates: the requester, on the request's connection, for {@code ttlS} from {@code now}. */
    public static GrantEntity approved(UUID requestId, String subject, String connection, String scope, int ttlS,
            OffsetDateTime now) {
        GrantEntity grant = new GrantEntity();
        grant.id = UUID.randomUUID();
        grant.identitySubject = subject;
        grant.connectionName = connection;
        grant.scope = scope;
        grant.createdAt = now;
        grant.expiresAt = now.plusSeconds(ttlS);
        grant.approvalRequestId = requestId;
        return grant;
    }

    public boolean activeAt(OffsetDateTime now) {
        return revokedAt == null && expiresAt.isAfter(now);
    }
}
