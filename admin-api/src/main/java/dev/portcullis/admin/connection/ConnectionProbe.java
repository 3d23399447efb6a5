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

/** {@code POST /connections/{name}/test}: whether the stored settings and password log in to the target. Audited. */
@ApplicationScoped
public class ConnectionProbe {
    private final TargetLogin login;

    ConnectionProbe(TargetLogin login) {
        this.login = login;
    }

    /**
     * @param detail        what happened, or what failed and why (never the password)
     * @param serverVersion the target's version when logged in
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @Schema(name = "ConnectionTestResult")
    public record Result(boolean ok, String connection, String detail,
            @Schema(nullable = true) String serverVersion, long elapsedMs) {
    }

    public Uni<Result> probe(String name, Actor actor, String source) {
        return Panache.withSession(() -> ConnectionService.find(name)).chain(connection -> {
            String password = login.password(connection);
            long start = System.nanoTime();
            return login.open(connection, password)
                    .chain(pg -> {
                        String version = pg.databaseMetadata().fullVersion();
                        return pg.close().replaceWith(new Result(true, name, "logged in as user " + connection.username
                                + " to database " + connection.database + " at " + connection.host + ":" + connection.port,
                                version, elapsedMs(start)));
                    })
                    .onFailure(TargetLogin.LoginFailed.class)
                    .recoverWithItem(failure -> new Result(false, name, failure.getMessage(), null, elapsedMs(start)));
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
