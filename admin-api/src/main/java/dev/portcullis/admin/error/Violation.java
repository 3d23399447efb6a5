package dev.portcullis.admin.error;

/** One problem with a request: the JSON field (as the client spelled it) and what is expected there. */
public record Violation(String field, String message) {
}
