package dev.portcullis.admin.approval;

import static dev.portcullis.admin.approval.ApprovalRequestEntity.APPROVED;
import static dev.portcullis.admin.approval.ApprovalRequestEntity.DENIED;
import static dev.portcullis.admin.approval.ApprovalRequestEntity.EXPIRED;
import static dev.portcullis.admin.approval.ApprovalRequestEntity.PENDING;
import static dev.portcullis.admin.approval.ApprovalVoteEntity.APPROVE;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.grant.GrantEntity;
import dev.portcullis.admin.policy.PolicyClient;
import dev.portcullis.admin.policy.PolicyDecision;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Takes a vote, in one transaction that holds the request's row lock throughout (so votes on one request are
 * serialised, and one vote sees every vote before it): the state checks, OPA's {@code portcullis/approve}, the vote,
 * the request's end when the vote decides it (and its grant), the webhook notifications, and the audit entry. A
 * refused vote is audited too, so a refusal is an {@link Outcome}, not a failure that would roll the audit back.
 */
@ApplicationScoped
public class VoteService {

    /** A vote to take: {@code approve} or {@code deny}, with an optional comment (required to deny). */
    public record Ballot(String verdict, String comment, Voter voter, String source) {
    }

    /** What became of a vote, once its transaction has committed. */
    public sealed interface Outcome {
    }

    /** @param approval the request after the vote */
    public record Recorded(ApprovalDetail approval) implements Outcome {
    }

    public record Refused(ApiException error) implements Outcome {
    }

    private final PolicyClient policy;
    private final ApprovalService approvals;

    VoteService(PolicyClient policy, ApprovalService approvals) {
        this.policy = policy;
        this.approvals = approvals;
    }

    @WithTransaction
    public Uni<Outcome> vote(UUID id, Ballot ballot) {
        return ApprovalRequestEntity.<ApprovalRequestEntity>findById(id, LockModeType.PESSIMISTIC_WRITE)
                .onItem().ifNull().failWith(() -> ApprovalService.notFound(id))
                .chain(request -> DatabaseTime.now().chain(now -> vote(request, ballot, now)));
    }

    private Uni<Outcome> vote(ApprovalRequestEntity request, Ballot ballot, OffsetDateTime now) {
        if (!PENDING.equals(request.state)) {
            return refuse(request, ballot, ApiException.conflict(notPending(request)));
        }
        if (!request.expiresAt.isAfter(now)) {
            // Nobody else noticed yet (the gateway holding it, the sweeper): end it here, then refuse.
            end(request, EXPIRED, ApprovalRequestEntity.expiredOutcome(request.expiresAt), now);
            return NotificationEntity.of(request.id, EXPIRED, now).persist()
                    .chain(() -> refuse(request, ballot, ApiException.conflict(notPending(request))));
        }
        return ApprovalVoteEntity.<ApprovalVoteEntity>list("requestId = ?1", Sort.by("at").and("approverSubject"), request.id)
                .chain(votes -> {
                    Optional<ApprovalVoteEntity> earlier = votes.stream()
                            .filter(v -> v.approverSubject.equals(ballot.voter().subject())).findFirst();
                    if (earlier.isPresent()) {
                        return refuse(request, ballot, ApiException.conflict("you already voted on approval request "
                                + request.id + " (" + earlier.get().verdict + " at " + Times.format(earlier.get().at)
                                + "); each approver votes once"));
                    }
                    return policy.decide("approve", ApproveInput.of(request, votes, ballot))
                            .chain(decision -> decided(request, votes, ballot, now, decision));
                });
    }

    private Uni<Outcome> decided(ApprovalRequestEntity request, List<ApprovalVoteEntity> votes, Ballot ballot,
            OffsetDateTime now, PolicyDecision decision) {
        if (!decision.answered()) {
            return refuse(request, ballot, new ApiException(503, "the vote was not recorded: " + decision.problem()
                    + "; votes are refused while the policy engine cannot decide them, retry when it answers"));
        }
        if (!decision.allowed()) {
            return refuse(request, ballot, new ApiException(403, "the approve policy refused this vote: "
                    + String.join("; ", decision.reasons()) + " [policy " + decision.policy() + "]"));
        }
        ApprovalVoteEntity vote = new ApprovalVoteEntity();
        vote.requestId = request.id;
        vote.approverSubject = ballot.voter().subject();
        vote.approverName = ballot.voter().name();
        vote.verdict = ballot.verdict();
        vote.comment = ballot.comment();
        vote.at = now;
        // The vote's notification and the vote share their time: that is how the webhook finds who voted.
        Uni<?> changes = vote.persist().chain(() -> NotificationEntity.of(request.id, "vote", now).persist());
        List<String> approvers = approvers(votes, vote);
        if (!APPROVE.equals(vote.verdict)) {
            end(request, DENIED, "denied by " + who(vote) + ": " + vote.comment, now);
            changes = changes.chain(() -> NotificationEntity.of(request.id, DENIED, now).persist());
        } else if (approvers.size() >= request.minApprovals) {
            end(request, APPROVED, "approved by " + String.join(" and ", approvers), now);
            changes = changes.chain(() -> NotificationEntity.of(request.id, APPROVED, now).persist());
            if (request.grantScope != null) {
                changes = changes.chain(() -> GrantEntity.approved(request.id, request.identitySubject,
                        request.connectionName, request.grantScope, request.grantTtlS, now).persist());
            }
        }
        return changes
                .chain(() -> audit(request, ballot, "recorded", Map.of("policy", decision.policy())))
                .chain(() -> Panache.flush())
                .chain(() -> approvals.detail(request))
                .map(Recorded::new);
    }

    private Uni<Outcome> refuse(ApprovalRequestEntity request, Ballot ballot, ApiException error) {
        return audit(request, ballot, "refused", Map.of("status", error.status(), "reason", error.getMessage()))
                .replaceWith(new Refused(error));
    }

    private static Uni<AdminAuditEntry> audit(ApprovalRequestEntity request, Ballot ballot, String outcome,
            Map<String, Object> more) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("verdict", ballot.verdict());
        details.put("comment", ballot.comment());
        details.put("outcome", outcome);
        details.putAll(more);
        details.put("state", request.state);
        details.put("source", ballot.source());
        return AdminAuditEntry.record(ballot.voter().actor(), "approval." + ballot.verdict(), "approval/" + request.id,
                details);
    }

    private static void end(ApprovalRequestEntity request, String state, String outcome, OffsetDateTime now) {
        request.state = state;
        request.outcome = outcome;
        request.decidedAt = now;
    }

    static String notPending(ApprovalRequestEntity request) {
        return "approval request " + request.id + " is " + request.state
                + (request.outcome == null ? "" : " (" + request.outcome + ")")
                + "; votes are taken only while a request is pending";
    }

    /** Everyone who approved, the new vote included, in order. */
    private static List<String> approvers(List<ApprovalVoteEntity> earlier, ApprovalVoteEntity vote) {
        return java.util.stream.Stream.concat(earlier.stream(), java.util.stream.Stream.of(vote))
                .filter(v -> APPROVE.equals(v.verdict)).map(VoteService::who).toList();
    }

    private static String who(ApprovalVoteEntity vote) {
        return vote.approverName != null ? vote.approverName : vote.approverSubject;
    }

    /** The input of {@code portcullis/approve} (policies-rego/schema/approve.input.schema.json). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ApproveInput(int contract, Voter identity, Approval approval, String vote) {

        @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
        record Approval(UUID id, ApprovalView.Requester requester, ApprovalView.Connection connection, String protocol,
                String summary, Map<String, Object> request, String policy, List<String> reasons,
                List<String> approverGroups, int minApprovals, ApprovalView.Grant grant, List<Vote> votes) {
        }

        /** @param approver the voter's subject */
        record Vote(String approver, String verdict) {
        }

        static ApproveInput of(ApprovalRequestEntity r, List<ApprovalVoteEntity> votes, Ballot ballot) {
            ApprovalView view = ApprovalView.of(r, 0);
            return new ApproveInput(2, ballot.voter(), new Approval(r.id, view.requester(), view.connection(), r.protocol,
                    r.summary, r.request, r.policy, ApprovalRequestEntity.strings(r.reasons), view.approverGroups(),
                    r.minApprovals, view.grant(),
                    votes.stream().map(v -> new Vote(v.approverSubject, v.verdict)).toList()), ballot.verdict());
        }
    }
}
