package dev.portcullis.gateway.health;

import dev.portcullis.gateway.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Not ready while the OPA sidecar is unreachable: without it every request would be denied. */
@Readiness
@ApplicationScoped
public class OpaReadiness implements HealthCheck {
    private final GatewayConfig.Opa opa;
    private final HttpClient http;

    OpaReadiness(GatewayConfig config) {
        this.opa = config.opa();
        this.http = HttpClient.newBuilder().connectTimeout(opa.healthTimeout()).build();
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("opa").withData("url", opa.url());
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(opa.url() + "/health")).timeout(opa.healthTimeout()).GET().build();
            int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return response.status(status == 200).withData("status", status).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return response.down().withData("error", "interrupted").build();
        } catch (Exception e) {
            return response.down().withData("error", String.valueOf(e.getMessage())).build();
        }
    }
}
