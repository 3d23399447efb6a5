package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code approval}: a held request's approval changed state.
 *
 * @param requestId  the approval-request id the client was told
 * @param requestSeq the seq of the held {@code request} event
 * @param state      {@code pending} (created, or a vote that is not yet enough), {@code approved}, {@code denied},
 *                   {@code expired}, {@code withdrawn} (the client cancelled or left) or {@code abandoned} (the gateway
 *                   restarted while it waited)
 * @param approver   the subject of who voted, {@code null} for the other changes
 * @param comment    the voter's comment, or why it ended; {@code null} when there is none
 */
public record Approval(String requestId, long requestSeq, String state, String approver, String comment) implements EventBody {
    public static final String TYPE = "approval";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }
}
