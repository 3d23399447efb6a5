package dev.portcullis.admin.approval;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.UUID;

/**
 * A row of {@code approval_votes}: one approver's verdict on one request (the primary key allows one vote per
 * approver and request, so approvals count distinct approvers).
 * <p>
 * {@code at} equals the {@code created_at} of the {@code vote} notification written with it (and of the
 * {@code approved} or {@code denied} one when the vote decided the request): that is how a notification finds its
 * vote, since the outbox row names only the request.
 */
@Entity
@Table(name = "approval_votes")
@IdClass(ApprovalVoteEntity.Key.class)
public class ApprovalVoteEntity extends PanacheEntityBase {
    public static final String APPROVE = "approve";
    public static final String DENY = "deny";

    @Id
    @Column(name = "request_id")
    public UUID requestId;
    @Id
    @Column(name = "approver_subject")
    public String approverSubject;
    @Column(name = "approver_name")
    public String approverName;
    public String verdict;
    public String comment;
    public OffsetDateTime at;

    /** The primary key. */
    public static class Key implements Serializable {
        public UUID requestId;
        public String approverSubject;

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(requestId, k.requestId) && Objects.equals(approverSubject, k.approverSubject);
        }

        @Override
        public int hashCode() {
            return Objects.hash(requestId, approverSubject);
        }
    }
}
