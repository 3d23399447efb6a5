package dev.portcullis.admin.error;

import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

/**
 * Documents the errors every endpoint can answer, in one place: each operation gets the statuses that the security
 * filters, the HTTP layer and the error mappers send (401, 403, 406, 500, 503; 400 where it takes a parameter or a
 * body; 404 where its path names something; 413 and 415 where it takes a body), and every error response, these and
 * those an endpoint declares itself (409, 412, ...), is an RFC 9457 problem detail ({@link Problem}). Registered as
 * {@code mp.openapi.filter}.
 */
public class ProblemResponses implements OASFilter {
    private static final Map<String, String> ALWAYS = Map.of(
            "401", "No valid access token: missing, malformed, expired, or for another audience",
            "403", "The admin policy (portcullis/admin) refuses this caller; the detail names the groups that would do",
            "406", "The Accept header names no media type this endpoint answers",
            "500", "An unexpected error; the detail says nothing internal",
            "503", "The policy engine (OPA) or a store cannot answer now; nothing is allowed meanwhile; retry");

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() == null) {
            return;
        }
        for (var path : openAPI.getPaths().getPathItems().entrySet()) {
            boolean namesSomething = path.getKey().contains("{");
            for (Operation operation : operations(path.getValue())) {
                boolean hasBody = operation.getRequestBody() != null;
                boolean hasParameters = namesSomething || hasBody
                        || (operation.getParameters() != null && !operation.getParameters().isEmpty());
                APIResponses responses = operation.getResponses();
                ALWAYS.forEach((status, description) -> add(responses, status, description));
                if (hasParameters) {
                    add(responses, "400", "The request is invalid; errors[] names each field or parameter and what is expected");
                }
                if (namesSomething) {
                    add(responses, "404", "Nothing of this id or name");
                }
                if (hasBody) {
                    add(responses, "413", "The body is larger than this API accepts");
                    add(responses, "415", "The body is not application/json");
                }
                responses.getAPIResponses().forEach((status, response) -> {
                    if (status.startsWith("4") || status.startsWith("5")) {
                        response.setContent(OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE,
                                OASFactory.createMediaType().schema(OASFactory.createSchema().ref("Problem"))));
                    }
                });
            }
        }
    }

    private static java.util.List<Operation> operations(PathItem item) {
        return item.getOperations() == null ? java.util.List.of() : java.util.List.copyOf(item.getOperations().values());
    }

    /** Adds the status, or replaces the framework's generic wording of it ("Not Authorized", "Not Allowed"). */
    private static void add(APIResponses responses, String status, String description) {
        APIResponse existing = responses.getAPIResponse(status);
        if (existing == null) {
            responses.addAPIResponse(status, OASFactory.createAPIResponse().description(description));
        } else if (existing.getDescription() == null || existing.getDescription().startsWith("Not ")) {
            existing.setDescription(description);
        }
    }
}
