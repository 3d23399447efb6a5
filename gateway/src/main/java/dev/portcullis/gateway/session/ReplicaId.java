package dev.portcullis.gateway.session;

import dev.portcullis.gateway.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * This gateway replica's name, the same across its restarts: its host name (the pod name in Kubernetes) and its
 * PostgreSQL port. Recordings say which replica held a session; approval requests, which replica holds the client.
 */
@ApplicationScoped
public class ReplicaId {
    private final String value;

    ReplicaId(GatewayConfig config) {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "gateway";
            }
        }
        this.value = host + ":" + config.postgres().port();
    }

    public String value() {
        return value;
    }

    @Override
    public String toString() {
        return value;
    }
}
