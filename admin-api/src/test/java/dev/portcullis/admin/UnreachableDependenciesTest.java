package dev.portcullis.admin;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The API starts without its OIDC issuer and PostgreSQL pool, refuses every request, and is not ready. */
@QuarkusTest
@TestProfile(UnreachableDependenciesTest.DeadIssuerAndDatabase.class)
class UnreachableDependenciesTest {
    private static final String REACTIVE_PG_CHECK = "Reactive PostgreSQL connections health check";

    public static class DeadIssuerAndDatabase implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // port 1 on loopback: nothing listens there. Flyway still migrates through the JDBC URL.
            return Map.of(
                    "portcullis.oidc-issuer", "http://127.0.0.1:1/portcullis",
                    "quarkus.datasource.reactive.url", "postgresql://127.0.0.1:1/portcullis");
        }
    }

    @Test
    void aValidTokenIsRefusedWhileTheIssuerIsUnreachable() {
        given().auth().oauth2(OidcTokens.of(OidcTokens.ADMIN)).get("/connections").then().statusCode(401)
                .body("detail", containsString("unreachable"));
    }

    @Test
    void notReadyWhilePostgresIsUnreachable() {
        given().get("/q/health/ready").then().statusCode(503)
                .body("status", equalTo("DOWN"))
                .body("checks.find { it.name == '" + REACTIVE_PG_CHECK + "' }.status", equalTo("DOWN"));
    }
}
