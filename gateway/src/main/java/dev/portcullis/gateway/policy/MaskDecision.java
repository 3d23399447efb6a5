package dev.portcullis.gateway.policy;

import java.util.List;

/**
 * OPA's answer to {@code portcullis/mask} (contract v2, policies-rego/schema/mask.output.schema.json): a method
 * per masked column and the detectors to run over the others. A failure to decide carries its cause, and the
 * gateway refuses the result.
 */
public record MaskDecision(List<Entry> plan, List<String> detectors, String policy, int cacheTtlS, String revision,
        String failure) implements PolicyAnswer {

    /** @param column 0-based index into the input's columns */
    public record Entry(int column, String method, Integer keepFirst, Integer keepLast, Character maskChar, String rule) {
    }

    public MaskDecision {
        plan = List.copyOf(plan);
        detectors = List.copyOf(detectors);
    }

    static MaskDecision failClosed(String reason) {
        return new MaskDecision(List.of(), List.of(), "gateway/fail-closed", 0, null, reason);
    }

    public boolean failed() {
        return failure != null;
    }
}
