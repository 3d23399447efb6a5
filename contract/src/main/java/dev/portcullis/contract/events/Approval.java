package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code approval}: a held request's approval changed state.
 *
 * @param requestId the approval-request id the client was told
 * @param state     {@code pending}, {@code approved}, {@code denied} or {@code expired}
 * @param approver  the approver's subject, {@code null} while pending or on expiry
 */
public record Approval(String requestId, String state, String approver) implements EventBody {
    public static final String TYPE = "approval";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }
}
