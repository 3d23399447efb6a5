package dev.portcullis.admin.webhook;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * One due notification with what its message says: the request as it was, and the vote the notification reports
 * (the vote whose time it shares, for {@code vote}, {@code approved} and {@code denied}).
 *
 * @param approvals distinct approvals at the time of the event
 * @param outcome   the request's outcome text (why it ended), null while pending
 */
record Notice(long id, String event, OffsetDateTime at, int attempts, UUID requestId, String requesterSubject,
        String requesterName, String connectionName, String connectionType, String protocol, String summary,
        String policy, List<String> approverGroups, int minApprovals, int approvals, OffsetDateTime createdAt,
        OffsetDateTime expiresAt, String grantScope, Integer grantTtlS, String outcome, String voterSubject,
        String voterName, String verdict, String comment) {

    String requester() {
        return requesterName != null ? requesterName : requesterSubject;
    }

    String voter() {
        return voterName != null ? voterName : voterSubject;
    }

    /** The state the event left the request in. */
    String state() {
        return switch (event) {
            case "created", "vote" -> "pending";
            default -> event;
        };
    }
}
