package dev.portcullis.gateway.approval;

import dev.portcullis.gateway.policy.DecisionInput;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The time-boxed grants approvals create (table {@code grants}): the active ones of an identity on a connection go
 * into every decision input, and the policy decides what each allows. A new or revoked grant NOTIFYs
 * {@code portcullis_grants} with the identity's subject, and every replica reloads that identity's sessions' grants.
 */
@ApplicationScoped
public class Grants {
    private static final String ACTIVE = """
            SELECT scope, expires_at FROM grants WHERE identity_subject = $1 AND connection_name = $2
              AND revoked_at IS NULL AND expires_at > now() ORDER BY scope, expires_at""";

    /** A grant as a session keeps it: dropped from the input once it expires. */
    public record Active(String scope, Instant expiresAt) {
        public DecisionInput.GrantInput input() {
            return new DecisionInput.GrantInput(scope, expiresAt.toString());
        }
    }

    private final Pool pool;

    Grants(Pool pool) {
        this.pool = pool;
    }

    /** The identity's active grants on the connection. */
    public CompletionStage<List<Active>> active(String subject, String connection) {
        return pool.preparedQuery(ACTIVE).execute(Tuple.of(subject, connection)).map(rows -> {
            List<Active> out = new ArrayList<>();
            for (Row r : rows) {
                OffsetDateTime expires = r.getOffsetDateTime("expires_at");
                out.add(new Active(r.getString("scope"), expires.toInstant()));
            }
            return List.copyOf(out);
        }).subscribeAsCompletionStage();
    }
}
