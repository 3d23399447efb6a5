package dev.portcullis.admin.connection;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.OffsetDateTime;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What the API returns for a connection: everything but the secret, and whether one is stored. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ConnectionView(
        String name,
        String type,
        String host,
        int port,
        @Schema(description = "kubernetes: the API server, https://host:port (the same host and port as above).",
                nullable = true)
        String apiServerUrl,
        String database,
        String username,
        boolean hasSecret,
        String tlsMode,
        String tlsCaPem,
        Map<String, String> tags,
        @Schema(description = "What only this type needs, as the gateway reads it; kubernetes: impersonate; ssh: host_key.")
        Map<String, Object> settings,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    static ConnectionView of(ConnectionEntity c) {
        return new ConnectionView(c.name, c.type, c.host, c.port,
                ConnectionTypes.KUBERNETES.equals(c.type) ? ConnectionTypes.apiServerUrl(c.host, c.port) : null,
                c.database, c.username,
                c.secret != null && c.secret.length > 0, c.tlsMode, c.tlsCaPem,
                c.tags == null ? Map.of() : c.tags,
                c.settings == null ? Map.of() : c.settings, c.createdAt, c.updatedAt);
    }
}
