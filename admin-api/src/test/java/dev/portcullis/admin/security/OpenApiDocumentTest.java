package dev.portcullis.admin.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document (/q/openapi) as a client generator reads it: complete, with the statuses the API really
 * answers. What each endpoint answers is asserted by {@link AuthorizationMatrixTest}; this test checks that the
 * document lists exactly those endpoints and documents each of those answers.
 */
@QuarkusTest
class OpenApiDocumentTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch");

    private JsonNode document;
    private String text;

    @BeforeEach
    void fetch() throws Exception {
        text = given().accept("application/json").get("/q/openapi?format=json").then().statusCode(200).extract().asString();
        document = new ObjectMapper().readTree(text);
    }

    @Test
    void everyOperationHasAnIdATagWithADescriptionASuccessAndProblemDetailsForErrors() {
        Set<String> describedTags = new HashSet<>();
        document.path("tags").forEach(tag -> {
            if (!tag.path("description").asText().isBlank()) {
                describedTags.add(tag.path("name").asText());
            }
        });
        Set<String> ids = new HashSet<>();
        List<String> wrong = new ArrayList<>();
        forEachOperation((name, operation) -> {
            String id = operation.path("operationId").asText();
            if (id.isBlank() || !ids.add(id)) {
                wrong.add(name + ": no operationId, or one used twice (" + id + ")");
            }
            operation.path("tags").forEach(tag -> {
                if (!describedTags.contains(tag.asText())) {
                    wrong.add(name + ": tag " + tag + " has no description");
                }
            });
            JsonNode responses = operation.path("responses");
            List<String> statuses = new ArrayList<>();
            responses.fieldNames().forEachRemaining(statuses::add);
            if (statuses.stream().noneMatch(s -> s.startsWith("2"))) {
                wrong.add(name + ": no success status documented");
            }
            for (String status : List.of("401", "403", "503")) {
                if (!statuses.contains(status)) {
                    wrong.add(name + ": " + status + " is not documented");
                }
            }
            for (String status : statuses) {
                JsonNode content = responses.path(status).path("content");
                if (status.matches("[45]..") && !(content.size() == 1 && content.path("application/problem+json")
                        .path("schema").path("$ref").asText().equals("#/components/schemas/Problem"))) {
                    wrong.add(name + ": error " + status + " is not an application/problem+json Problem: " + content);
                }
            }
            if (!operation.path("security").toString().contains("bearer")) {
                wrong.add(name + ": no bearer security requirement");
            }
        });
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void theStatusesAreTheRealOnes() {
        assertEquals(Set.of("201"), successes("post", "/connections"));
        assertEquals(Set.of("204"), successes("delete", "/connections/{name}"));
        assertEquals(Set.of("202"), successes("post", "/sessions/{id}/kill"));
        assertEquals(Set.of("202"), successes("post", "/recordings/parked/{id}/replay"));
        JsonNode update = document.path("paths").path("/connections/{name}").path("put").path("responses");
        assertTrue(update.has("412") && update.has("428"), "If-Match's answers: " + update);

        List<String> wrong = new ArrayList<>();
        Set<String> covered = new HashSet<>();
        for (AuthorizationMatrixTest.Endpoint endpoint : AuthorizationMatrixTest.ENDPOINTS) {
            String operation = operationOf(endpoint.method(), endpoint.path());
            if (operation == null) {
                wrong.add(endpoint.name() + " answers, but is not in the document");
                continue;
            }
            covered.add(operation);
            JsonNode responses = document.path("paths").path(operation.substring(operation.indexOf(' ') + 1))
                    .path(endpoint.method().toLowerCase()).path("responses");
            for (int status : new int[] {endpoint.whenAllowed(), 401, 403}) {
                if (!responses.has(Integer.toString(status))) {
                    wrong.add(endpoint.name() + " answers " + status + ", which its operation does not document");
                }
            }
        }
        forEachOperation((name, operation) -> {
            if (!covered.contains(name)) {
                wrong.add(name + " is documented but not called by the authorization matrix");
            }
        });
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void noPlaceholderNoFrameworkInternalsAndTheRealGroupNames() {
        for (String leak : List.of("${", "JsonNode", "ObjectNode", "_nodeFactory", "_children", "Not Authorized")) {
            assertTrue(!text.contains(leak), "the document contains " + leak);
        }
        String scheme = document.path("components").path("securitySchemes").path("bearer").toString();
        assertTrue(scheme.contains("\"bearer\"") && scheme.contains("JWT"), scheme);
        for (String group : List.of("platform-admins", "auditors", "approvers")) {
            assertTrue(scheme.contains(group), "the security scheme names group " + group + ": " + scheme);
        }
    }

    private Set<String> successes(String method, String path) {
        Set<String> statuses = new HashSet<>();
        document.path("paths").path(path).path(method).path("responses").fieldNames().forEachRemaining(s -> {
            if (s.startsWith("2")) {
                statuses.add(s);
            }
        });
        return statuses;
    }

    /** @return "METHOD /template" of the documented operation that serves this concrete path, or null */
    private String operationOf(String method, String path) {
        for (var entry : (Iterable<Map.Entry<String, JsonNode>>) document.path("paths")::fields) {
            String pattern = entry.getKey().replaceAll("\\{[^/]+}", "[^/]+");
            if (path.matches(pattern) && entry.getValue().has(method.toLowerCase())
                    && (!entry.getKey().contains("{") || !hasLiteral(method, path))) {
                return method.toUpperCase() + " " + entry.getKey();
            }
        }
        return null;
    }

    /** Whether a path without variables serves this concrete path (as /sessions/live does before /sessions/{id}). */
    private boolean hasLiteral(String method, String path) {
        return document.path("paths").path(path).has(method.toLowerCase());
    }

    private void forEachOperation(java.util.function.BiConsumer<String, JsonNode> action) {
        document.path("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
            if (METHODS.contains(op.getKey())) {
                action.accept(op.getKey().toUpperCase() + " " + path.getKey(), op.getValue());
            }
        }));
    }
}
