package dev.portcullis.admin.approval;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A held request as {@code GET /approvals} lists it: who asked for what where, who may decide, how far the votes
 * got, and how it ended. {@link ApprovalDetail} adds the request itself, the votes and the webhook deliveries.
 *
 * @param state     {@code pending}, {@code approved}, {@code denied}, {@code expired}, {@code withdrawn} (the client
 *                  cancelled or left) or {@code abandoned} (its gateway restarted)
 * @param approvals distinct approvers who approved so far, of {@code min_approvals} needed
 * @param outcome   why it ended, in words for the client (who denied it and why, that it expired, ...); null while pending
 * @param grant     what approving it also grants the requester, or null
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ApprovalView(UUID id, String state, OffsetDateTime createdAt, OffsetDateTime expiresAt,
        OffsetDateTime decidedAt, Requester requester, Connection connection, String protocol, String summary,
        String policy, List<String> approverGroups, int minApprovals, int approvals, Grant grant, String outcome) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Requester(String subject, String name, List<String> groups, String kind) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Connection(String name, String type, Map<String, String> tags) {
    }

    /** @param ttlS seconds from the approval */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Grant(String scope, int ttlS) {
    }

    static ApprovalView of(ApprovalRequestEntity r, int approvals) {
        return new ApprovalView(r.id, r.state, r.createdAt, r.expiresAt, r.decidedAt,
                new Requester(r.identitySubject, r.identityName, ApprovalRequestEntity.strings(r.identityGroups),
                        r.identityKind),
                new Connection(r.connectionName, r.connectionType, r.connectionTags == null ? Map.of() : r.connectionTags),
                r.protocol, r.summary, r.policy, ApprovalRequestEntity.strings(r.approverGroups), r.minApprovals, approvals,
                r.grantScope == null ? null : new Grant(r.grantScope, r.grantTtlS), r.outcome);
    }
}
