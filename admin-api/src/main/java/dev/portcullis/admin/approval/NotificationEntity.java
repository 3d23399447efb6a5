package dev.portcullis.admin.approval;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A row of {@code approval_notifications}, the webhook's outbox: written in the transaction that changes the request,
 * sent later by {@link dev.portcullis.admin.webhook.WebhookDispatcher}.
 */
@Entity
@Table(name = "approval_notifications")
public class NotificationEntity extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;
    @Column(name = "request_id")
    public UUID requestId;
    /** {@code created}, {@code vote}, or the state the request ended in. */
    public String event;
    @Column(name = "created_at")
    public OffsetDateTime createdAt;
    public int attempts;
    @Column(name = "next_attempt_at")
    public OffsetDateTime nextAttemptAt;
    @Column(name = "delivered_at")
    public OffsetDateTime deliveredAt;
    @Column(name = "last_error")
    public String lastError;

    /** A new notification of the request's change at {@code at} (the transaction's vote time), due at once. */
    static NotificationEntity of(UUID requestId, String event, OffsetDateTime at) {
        NotificationEntity n = new NotificationEntity();
        n.requestId = requestId;
        n.event = event;
        n.createdAt = at;
        n.nextAttemptAt = at;
        return n;
    }
}
