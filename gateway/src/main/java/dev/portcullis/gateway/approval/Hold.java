package dev.portcullis.gateway.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A request waiting for approval on this gateway: its approval-request id, whom it waits for and until when, and
 * what came of it. Created by {@link Approvals#hold}; what happens to it arrives through {@link Approvals}' NOTIFY
 * listener and is handed to its {@link Listener} on the session's executor.
 */
public final class Hold {
    /** What the session hears of its held request. Called on the session's executor. */
    public interface Listener {
        /** An approver voted and the request still waits for more. */
        void voted(Hold hold, String approver, String verdict, String comment);

        /** It ended: approved, denied, expired, withdrawn or abandoned. */
        void ended(Hold hold, Ended ended);
    }

    /** How a held request ended. */
    public record Ended(String state, String by, String why) {
        public boolean approved() {
            return Approvals.APPROVED.equals(state);
        }
    }

    private final UUID id;
    private final Instant expiresAt;
    private final List<String> approverGroups;
    private final String howToApprove;
    private final Approvals approvals;
    private final CompletableFuture<Ended> ended = new CompletableFuture<>();
    final Listener listener;
    /** Votes already told to the listener, by approver subject. */
    final java.util.Set<String> votesSeen = new java.util.HashSet<>();

    Hold(UUID id, Instant expiresAt, List<String> approverGroups, String howToApprove, Approvals approvals, Listener listener) {
        this.id = id;
        this.expiresAt = expiresAt;
        this.approverGroups = List.copyOf(approverGroups);
        this.howToApprove = howToApprove;
        this.approvals = approvals;
        this.listener = listener;
    }

    public UUID id() {
        return id;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    /** Completes once, when the request ends. */
    public CompletionStage<Ended> ended() {
        return ended;
    }

    /** What the client is told while it waits: at once, and again every so often. */
    public String notice() {
        long left = Math.max(0, Duration.between(Instant.now(), expiresAt).toSeconds());
        return "approval required: request " + id + ", waiting for " + String.join(" or ", approverGroups) + " (expires in "
                + left + " s) — approve with " + howToApprove;
    }

    /** The client gave up (cancelled, disconnected): the request is withdrawn and nobody may approve it any more. */
    public void withdraw(String why) {
        if (!ended.isDone()) {
            approvals.withdraw(this, why);
        }
    }

    /** Ends it; later calls do nothing. */
    boolean end(Ended how) {
        return ended.complete(how);
    }

    boolean isEnded() {
        return ended.isDone();
    }
}
