package dev.portcullis.gateway.policy;

import java.util.List;

/** The outcome of a policy evaluation. A failure to decide is a denial with a reason that names the cause. */
public record Decision(boolean allow, List<String> reasons, String policy) {
    public static final Decision ALLOW = new Decision(true, List.of(), "allow-all");

    public static Decision deny(String policy, String reason) {
        return new Decision(false, List.of(reason), policy);
    }
}
