package dev.portcullis.admin.error;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The body of every error response: what went wrong and, where it is about input, which fields. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ApiError(int status, String error, List<Violation> violations) {

    public static ApiError of(int status, String error) {
        return new ApiError(status, error, List.of());
    }
}
