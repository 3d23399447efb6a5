package dev.portcullis.gateway.health;

import dev.portcullis.gateway.session.SessionRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Not ready once the gateway drains (SIGTERM): it takes no new sessions, so no new traffic should come here. */
@Readiness
@ApplicationScoped
public class DrainReadiness implements HealthCheck {
    private final SessionRegistry registry;

    DrainReadiness(SessionRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("sessions").status(!registry.draining()).withData("draining", registry.draining()).build();
    }
}
