package dev.portcullis.admin.connection;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.security.Actor;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * {@code POST /connections/{name}/test}: whether the stored settings and secret log in to the target, as the gateway
 * would. postgres: a login with the password ({@link TargetLogin}); kubernetes: the API server reached with the
 * credential ({@link ClusterLogin}); ssh: a login with the private key against the registered host key, no channel
 * ({@link HostLogin}). Audited.
 */
@ApplicationScoped
public class ConnectionProbe {
    private final TargetLogin login;
    private final ClusterLogin clusters;
    private final HostLogin hosts;

    ConnectionProbe(TargetLogin login, ClusterLogin clusters, HostLogin hosts) {
        this.login = login;
        this.clusters = clusters;
        this.hosts = hosts;
    }

    /**
     * @param detail        what happened, or what failed and why (never the password or credential)
     * @param serverVersion the target's version when reached: PostgreSQL's, the API server's gitVersion, the SSH server's
     *                      identification string
     * @param identity      who the target sees: the database user, the credential's Kubernetes user and groups, the SSH login
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "ConnectionTestResult")
    public record Result(boolean ok, String connection, String detail,
            @Schema(nullable = true) String serverVersion, @Schema(nullable = true) String identity, long elapsedMs) {
    }

    /** What a target said when it was reached; a failure is a {@link TargetLogin.LoginFailed} instead. */
    record Reached(String detail, String serverVersion, String identity) {
    }

    public Uni<Result> probe(String name, Actor actor, String source) {
        return Panache.withSession(() -> ConnectionService.find(name)).chain(connection -> {
            String secret = login.unsealed(connection);
            long start = System.nanoTime();
            Uni<Reached> reached = switch (connection.type) {
                case ConnectionTypes.KUBERNETES -> clusters.reach(connection, secret);
                case ConnectionTypes.SSH -> hosts.reach(connection, secret);
                default -> login.open(connection, secret).chain(pg -> {
                    String version = pg.databaseMetadata().fullVersion();
                    return pg.close().replaceWith(new Reached("logged in as user " + connection.username + " to database "
                            + connection.database + " at " + connection.host + ":" + connection.port, version,
                            connection.username));
                });
            };
            return reached.map(r -> new Result(true, name, r.detail(), r.serverVersion(), r.identity(), elapsedMs(start)))
                    .onFailure(TargetLogin.LoginFailed.class)
                    .recoverWithItem(failure -> new Result(false, name, failure.getMessage(), null, null, elapsedMs(start)));
        }).call(result -> {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("outcome", result.ok() ? "ok" : "error");
            details.put("detail", result.detail());
            details.put("source", source);
            return Panache.withTransaction(() -> AdminAuditEntry.record(actor, "connection.test", "connection/" + name, details));
        });
    }

    private static long elapsedMs(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }
}
