package dev.portcullis.admin.error;

import java.util.List;

/** An error the client caused, with the status and message to send back. Never carries secret values. */
public class ApiException extends RuntimeException {
    private final int status;
    private final List<Violation> violations;

    public ApiException(int status, String message) {
        this(status, message, List.of());
    }

    private ApiException(int status, String message, List<Violation> violations) {
        super(message, null, false, false);
        this.status = status;
        this.violations = violations;
    }

    public static ApiException invalidField(String field, String message) {
        return new ApiException(400, "invalid request", List.of(new Violation(field, message)));
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, message);
    }

    public static ApiException conflict(String message) {
        return new ApiException(409, message);
    }

    public Problem toProblem() {
        return Problem.of(status, getMessage(), violations);
    }

    public int status() {
        return status;
    }
}
