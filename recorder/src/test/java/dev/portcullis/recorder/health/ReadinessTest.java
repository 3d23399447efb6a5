package dev.portcullis.recorder.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** With the stack up, the recorder is ready: PostgreSQL, Kafka and the recordings bucket all answer. */
@QuarkusTest
class ReadinessTest {

    @Test
    void readyWhenPostgresKafkaAndTheBucketAnswer() throws InterruptedException {
        // like a Kubernetes probe, allow the first connections a few seconds
        for (int attempt = 0; attempt < 10 && given().get("/q/health/ready").statusCode() != 200; attempt++) {
            Thread.sleep(1000);
        }
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems(KafkaReadiness.NAME, S3BucketReadiness.NAME,
                        "Reactive PostgreSQL connections health check"));
    }

    @Test
    void metricsAndOpenApiAreServed() {
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
    }
}
