package dev.portcullis.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsStringIgnoringCase;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TargetDatabases;
import dev.portcullis.gateway.testing.TestStack;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gateway that cannot reach OPA must stop taking traffic: readiness goes red, and green again when OPA is back.
 * Kafka is another matter: without it recording degrades to the journal, and the gateway stays ready and alive.
 */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = false)
class ReadinessTest {

    @Test
    void health_metrics_and_openapi_are_served() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
    }

    @Test
    void stopping_opa_turns_readiness_red_within_5_seconds_and_back_when_it_returns() throws Exception {
        given().get("/q/health/ready").then().statusCode(200);
        long pid = Long.parseLong(Files.readString(TestStack.ROOT.resolve(".stack/run/opa.pid")).trim());
        try {
            ProcessHandle.of(pid).orElseThrow().destroy();
            long stopped = System.nanoTime();
            int status = 200;
            while (status == 200 && System.nanoTime() - stopped < TimeUnit.SECONDS.toNanos(5)) {
                status = given().get("/q/health/ready").statusCode();
                Thread.sleep(100);
            }
            assertEquals(503, status, "readiness must be red within 5 s of OPA stopping");
            given().get("/q/health/ready").then().body("checks.find { it.name == 'opa' }.status", equalTo("DOWN"));
        } finally {
            Process up = new ProcessBuilder(TestStack.ROOT.resolve("dev-services/stack").toString(), "up", "--deps-only")
                    .inheritIO().start();
            assertTrue(up.waitFor(2, TimeUnit.MINUTES) && up.exitValue() == 0, "OPA restarts");
        }
        given().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void stopping_kafka_leaves_the_gateway_ready_and_alive_and_serving() throws Exception {
        TargetDatabases.ensure();
        given().get("/q/health/ready").then().statusCode(200);
        long pid = Long.parseLong(Files.readString(TestStack.ROOT.resolve(".stack/run/kafka.pid")).trim());
        try {
            ProcessHandle kafka = ProcessHandle.of(pid).orElseThrow();
            kafka.destroy();
            kafka.onExit().get(60, TimeUnit.SECONDS);
            // long enough for a broker check to notice (the Kafka client's own timeouts are seconds)
            for (int i = 0; i < 15; i++) {
                given().get("/q/health/live").then().statusCode(200);
                given().get("/q/health/ready").then().statusCode(200)
                        .body("checks.name", not(hasItem(containsStringIgnoringCase("kafka"))));
                try (Connection c = Jdbc.viaGateway(TargetDatabases.CONNECTION, TestStack.token("alice")); var st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
                    rs.next();
                    assertEquals(42, rs.getInt(1), "sessions go on while Kafka is away: their events wait in the journal");
                }
                Thread.sleep(1_000);
            }
        } finally {
            Process up = new ProcessBuilder(TestStack.ROOT.resolve("dev-services/stack").toString(), "up", "--deps-only")
                    .inheritIO().start();
            assertTrue(up.waitFor(3, TimeUnit.MINUTES) && up.exitValue() == 0, "Kafka restarts");
        }
        given().get("/q/health/ready").then().statusCode(200);
    }
}
