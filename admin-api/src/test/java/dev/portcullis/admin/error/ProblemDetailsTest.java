package dev.portcullis.admin.error;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.admin.OidcTokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Every error path answers an RFC 9457 problem detail ({@code application/problem+json}) with a stable type, a detail
 * that says what to do, and never an exception's own text. One test per status.
 */
@QuarkusTest
class ProblemDetailsTest {
    private static final String TYPES = "https://portcullis.dev/problems/";

    @TestHTTPResource("/")
    URL root;

    @Test
    void a400NamesTheQueryParameterThatIsNotANumber() {
        problem(asAdmin().get("/sessions?limit=abc"), 400, "invalid-request")
                .body("errors.field", hasItem("limit"))
                .body("errors[0].message", containsString("whole number between 1 and 500"));
    }

    @Test
    void a400NamesTheUnknownQueryParameter() {
        problem(asAdmin().get("/sessions?offset=1"), 400, "invalid-request")
                .body("errors.field", hasItem("offset"))
                .body("errors[0].message", containsString("not a known query parameter"));
    }

    @Test
    void a400OnATextEndpointIsAProblemNotJavaText() {
        problem(asAdmin().get("/sessions/not-a-uuid/transcript"), 400, "invalid-request")
                .body("errors.field", hasItem("id"))
                .body(not(containsString("ApiError")))
                .body(not(containsString("Violation[")));
    }

    @Test
    void a400NamesTheBodyFieldOfTheWrongType() {
        problem(asAdmin().contentType("application/json").body("{\"name\": \"x\", \"port\": \"many\"}").post("/connections"),
                400, "invalid-request")
                .body("errors.field", hasItem("port"));
    }

    @Test
    void a401SaysHowToGetAToken() {
        problem(given().get("/connections"), 401, "unauthenticated")
                .header("WWW-Authenticate", startsWith("Bearer"))
                .body("detail", containsString("access token is required"));
        problem(given().auth().oauth2("garbage").get("/sessions"), 401, "unauthenticated")
                .header("WWW-Authenticate", containsString("invalid_token"));
    }

    @Test
    void a403NamesTheGroupsThatWouldDo() {
        problem(given().auth().oauth2(OidcTokens.of(OidcTokens.AGENT_CI)).get("/connections"), 403, "forbidden")
                .body("detail", containsString("platform-admins"));
    }

    @Test
    void a404ForAnUnknownResourceAndForAnUnknownPath() {
        problem(asAdmin().get("/connections/no-such-connection-" + System.nanoTime()), 404, "not-found")
                .body("detail", containsString("does not exist"));
        problem(asAdmin().get("/no-such-endpoint"), 404, "not-found")
                .body("detail", containsString("/q/openapi"));
        problem(given().get("/no-such-endpoint/either"), 404, "not-found");
    }

    @Test
    void a405ForAMethodTheEndpointDoesNotHave() {
        problem(asAdmin().delete("/sessions"), 405, "method-not-allowed");
    }

    @Test
    void a406WhenTheClientAcceptsNothingTheEndpointProduces() {
        problem(asAdmin().accept("text/csv").get("/connections"), 406, "not-acceptable");
    }

    @Test
    void a413WhenTheBodyIsOverTheLimit() throws IOException {
        // the server answers from the headers, before any of the body: send none of it
        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /connections HTTP/1.1\r\nHost: " + root.getHost() + "\r\nAuthorization: Bearer "
                    + OidcTokens.of(OidcTokens.ADMIN) + "\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = readAll(socket.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            assertTrue(answer.toLowerCase().contains("content-type: application/problem+json"), answer);
            assertTrue(answer.contains("\"type\":\"" + TYPES + "body-too-large\""), answer);
            assertTrue(answer.contains("at most 10485760"), answer);
        }
    }

    @Test
    void a415WhenTheBodyIsNotJson() {
        problem(asAdmin().contentType("text/plain").body("name=x").post("/connections"), 415, "unsupported-media-type")
                .body("detail", containsString("application/json"));
    }

    @Test
    void a500SaysNothingOfTheFailureButAReference() {
        problem(asAdmin().get("/test-only/failure"), 500, "internal-error")
                .body("detail", containsString("reference"))
                .body(allOf(not(containsString(FailingResource.SECRET)), not(containsString("IllegalStateException"))));
    }

    private static ValidatableResponse problem(io.restassured.response.Response response, int status, String type) {
        return response.then().statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("type", equalTo(TYPES + type))
                .body("status", equalTo(status))
                .body("title", not(equalTo(null)))
                .body("detail", not(equalTo(null)));
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN));
    }

    private static String readAll(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        int total = 0;
        while (total < buffer.length) {
            int n = in.read(buffer, total, buffer.length - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return new String(buffer, 0, total, StandardCharsets.UTF_8);
    }
}
