package dev.portcullis.admin.error;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every failure into a {@link Problem} that says what was wrong and, where it is about input, names the field.
 * Input values are never echoed back (one of them may be a password), nor is any exception's own text.
 */
public class ApiExceptionMappers {
    private static final Logger LOG = Logger.getLogger(ApiExceptionMappers.class);
    private static final PropertyNamingStrategies.NamingBase JSON_NAMES =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

    /** The response for a problem, whatever the endpoint produces otherwise. */
    public static RestResponse<String> response(Problem problem) {
        return builder(problem).build();
    }

    public static RestResponse.ResponseBuilder<String> builder(Problem problem) {
        return RestResponse.ResponseBuilder.create(RestResponse.Status.fromStatusCode(problem.status()), problem.toJson())
                .type(Problem.MEDIA_TYPE);
    }

    @ServerExceptionMapper
    public RestResponse<String> apiException(ApiException e) {
        return response(e.toProblem());
    }

    @ServerExceptionMapper
    public RestResponse<String> invalidInput(ConstraintViolationException e) {
        List<Violation> violations = e.getConstraintViolations().stream()
                .map(v -> new Violation(jsonField(v), v.getMessage()))
                .sorted(Comparator.comparing(Violation::field))
                .collect(Collectors.toList());
        return response(Problem.of(400, "the request is invalid: see errors", violations));
    }

    // Quarkus REST has built-in mappers for these two; more specific declarations make ours win.
    @ServerExceptionMapper
    public RestResponse<String> mismatchedJson(MismatchedInputException e) {
        return unreadableJson(e);
    }

    @ServerExceptionMapper
    public RestResponse<String> malformedJson(JsonParseException e) {
        return unreadableJson(e);
    }

    @ServerExceptionMapper
    public RestResponse<String> unreadableJson(JsonProcessingException e) {
        String field = e instanceof JsonMappingException m ? jsonPath(m) : "";
        String message;
        if (e instanceof UnrecognizedPropertyException u) {
            field = u.getPropertyName();
            message = "is not a known field; known fields are: " + u.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", "));
        } else if (e instanceof MismatchedInputException mismatch) {
            message = field.isEmpty()
                    ? "the request body must be a JSON object with the documented fields"
                    : "has the wrong type: expected " + describe(mismatch.getTargetType());
        } else if (e instanceof JsonParseException) {
            message = "the request body is not valid JSON" + (e.getLocation() == null ? ""
                    : " (at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } else {
            message = "cannot be read: expected " + (field.isEmpty() ? "a JSON object" : "a value of the documented type");
        }
        List<Violation> violations = List.of(new Violation(field.isEmpty() ? "(body)" : field, message));
        return response(Problem.of(400, "the request body is invalid: see errors", violations));
    }

    /**
     * Standard HTTP failures raised by Quarkus REST itself. A body that is not JSON at all arrives here,
     * wrapped, rather than at the Jackson mappers above.
     */
    @ServerExceptionMapper
    public RestResponse<String> httpFailure(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadableJson(json);
        }
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            return internal(e);
        }
        return response(Problem.of(status, standardDetail(status)));
    }

    /** What to say for a standard HTTP failure, here and from the HTTP server outside the REST layer. */
    public static String standardDetail(int status) {
        return switch (status) {
            case 400 -> "the request is malformed";
            case 404 -> "no such endpoint; the API is described at /q/openapi";
            case 405 -> "this method is not allowed here; the API is described at /q/openapi";
            case 406 -> "this endpoint cannot answer in the media types of your Accept header; accept application/json";
            case 413 -> "the request body is larger than this API accepts";
            case 415 -> "send the body as JSON with 'Content-Type: application/json'";
            default -> "the request cannot be served (HTTP " + status + ")";
        };
    }

    /** Anything unforeseen: a 500 that names a reference to find the failure in the log, and nothing of it. */
    @ServerExceptionMapper
    public RestResponse<String> unexpected(Throwable e) {
        return internal(e);
    }

    private static RestResponse<String> internal(Throwable e) {
        String reference = UUID.randomUUID().toString();
        LOG.errorf(e, "internal error %s", reference);
        return response(Problem.of(500, "an internal error; report reference " + reference + " to the operators"));
    }

    /**
     * Validation paths look like {@code create.request.tlsMode} or {@code create.request.tags<map value>[env]};
     * keep the part the client wrote, in its JSON spelling: {@code tls_mode}, {@code tags.env}.
     */
    private static String jsonField(ConstraintViolation<?> violation) {
        StringBuilder field = new StringBuilder();
        int depth = 0;
        for (Path.Node node : violation.getPropertyPath()) {
            // the first two nodes are the resource method and its parameter
            if (++depth <= 2) {
                continue;
            }
            if (node.getKind() == ElementKind.PROPERTY) {
                append(field, JSON_NAMES.translate(node.getName()));
            }
            if (node.getKey() != null) {
                append(field, node.getKey().toString());
            } else if (node.getIndex() != null) {
                append(field, "[" + node.getIndex() + "]");
            }
        }
        return field.length() == 0 ? "(body)" : field.toString();
    }

    private static void append(StringBuilder field, String part) {
        if (field.length() > 0) {
            field.append('.');
        }
        field.append(part);
    }

    private static String jsonPath(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "a value of the documented type";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == String.class) {
            return "a string";
        }
        if (java.util.Map.class.isAssignableFrom(type)) {
            return "a JSON object of string to string";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        return "a JSON object";
    }
}
