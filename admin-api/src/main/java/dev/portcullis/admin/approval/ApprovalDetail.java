package dev.portcullis.admin.approval;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One held request in full ({@code GET /approvals/{id}}, and the answer to a vote): everything {@link ApprovalView}
 * shows, the request as the policy saw it and as the client sent it, where it is held, every vote, and every webhook
 * notification with its delivery state.
 *
 * @param requestText the text as the client sent it (capped by the gateway); it may hold literal values
 * @param request     the request part of the decision input that was held
 * @param requestSeq  the held request's seq in the session's recording
 * @param gateway     the gateway replica that holds the client
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ApprovalDetail(@JsonUnwrapped ApprovalView approval, String requestText, Map<String, Object> request,
        List<String> reasons, UUID sessionId, long requestSeq, String gateway, List<Vote> votes,
        List<Notification> notifications) {

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Vote(Approver approver, String verdict, String comment, OffsetDateTime at) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Approver(String subject, String name) {
    }

    /**
     * @param status {@code pending} (not sent yet, or to be retried at {@code next_attempt_at}), {@code delivered}, or
     *               {@code failed} (given up after the configured attempts; {@code last_error} says why)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Notification(long id, String event, OffsetDateTime createdAt, String status, int attempts,
            OffsetDateTime nextAttemptAt, OffsetDateTime deliveredAt, String lastError) {
    }

    static ApprovalDetail of(ApprovalRequestEntity r, List<ApprovalVoteEntity> votes, List<NotificationEntity> notifications,
            int maxAttempts) {
        int approvals = (int) votes.stream().filter(v -> ApprovalVoteEntity.APPROVE.equals(v.verdict)).count();
        return new ApprovalDetail(ApprovalView.of(r, approvals), r.requestText, r.request,
                ApprovalRequestEntity.strings(r.reasons), r.sessionId, r.requestSeq, r.gateway,
                votes.stream().map(v -> new Vote(new Approver(v.approverSubject, v.approverName), v.verdict, v.comment, v.at))
                        .toList(),
                notifications.stream().map(n -> new Notification(n.id, n.event, n.createdAt,
                        n.deliveredAt != null ? "delivered" : n.attempts >= maxAttempts ? "failed" : "pending",
                        n.attempts, n.deliveredAt == null ? n.nextAttemptAt : null, n.deliveredAt, n.lastError)).toList());
    }
}
