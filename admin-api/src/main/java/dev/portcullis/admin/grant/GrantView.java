package dev.portcullis.admin.grant;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A time-boxed grant: who may do what ({@code scope}, as the policies read it) on which connection until when, the
 * approval that created it, and whether it was revoked.
 *
 * @param identity the grantee's subject
 * @param active   not revoked and not expired
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record GrantView(UUID id, String identity, String connection, String scope, OffsetDateTime createdAt,
        OffsetDateTime expiresAt, boolean active, UUID approvalRequestId, OffsetDateTime revokedAt, String revokedBy) {

    static GrantView of(GrantEntity g, OffsetDateTime now) {
        return new GrantView(g.id, g.identitySubject, g.connectionName, g.scope, g.createdAt, g.expiresAt, g.activeAt(now),
                g.approvalRequestId, g.revokedAt, g.revokedBy);
    }
}
