package dev.portcullis.admin.approval;

import static io.restassured.RestAssured.given;

import dev.portcullis.admin.OidcTokens;
import io.agroal.api.AgroalDataSource;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every approval test needs: held requests made as the gateway makes them, on a connection name of the test's
 * own (so no test sees another's requests), removed afterwards; and calls as a demo identity.
 */
abstract class HeldRequestTest {

    @Inject
    AgroalDataSource db;

    HeldRequests held;
    String connection;

    @BeforeEach
    void heldRequests() {
        held = new HeldRequests(db);
        connection = getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT).replace("test", "") + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void removeHeldRequests() throws SQLException {
        held.deleteAll();
    }

    static RequestSpecification as(String client) {
        return given().auth().oauth2(OidcTokens.of(client)).contentType(ContentType.JSON);
    }
}
