package dev.portcullis.recorder.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Not ready when Kafka does not answer or S3 refuses the credentials, and the check says which and why. */
@QuarkusTest
@TestProfile(UnreachableDependenciesTest.BrokenKafkaAndS3.class)
class UnreachableDependenciesTest {

    public static class BrokenKafkaAndS3 implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    // port 1 on loopback: nothing listens there
                    "portcullis.recorder.kafka.bootstrap-servers", "127.0.0.1:1",
                    "portcullis.recordings.s3.secret-key", "not-the-real-secret",
                    // long enough for S3 to answer on a loaded machine (its first request loads the SDK); Kafka never answers
                    "portcullis.recorder.readiness-timeout", "3s");
        }
    }

    @Test
    void notReadyAndSaysWhichDependencyFailed() {
        given().get("/q/health/ready").then().statusCode(503)
                .body("status", equalTo("DOWN"))
                .body("checks.find { it.name == '" + KafkaReadiness.NAME + "' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == '" + KafkaReadiness.NAME + "' }.data.error", containsString("no answer"))
                .body("checks.find { it.name == '" + S3BucketReadiness.NAME + "' }.status", equalTo("DOWN"))
                .body("checks.find { it.name == '" + S3BucketReadiness.NAME + "' }.data.error", containsString("access denied"))
                .body("checks.find { it.name == 'Reactive PostgreSQL connections health check' }.status", equalTo("UP"));
    }
}
