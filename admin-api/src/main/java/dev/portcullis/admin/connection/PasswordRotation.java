package dev.portcullis.admin.connection;

import dev.portcullis.admin.audit.AdminAuditEntry;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.contract.SecretSealer;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Transaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Rotates a connection's password on its target and in Portcullis together, without downtime: logged in with the
 * current password, it changes the role's password in a target transaction ({@code ALTER ROLE CURRENT_USER}, with
 * the SCRAM verifier only: the password never reaches the target's logs), stores the new password sealed, and commits
 * the target's change only once the new password is stored. Sessions that are live keep their logins (PostgreSQL does
 * not end them); new sessions log in with the new password. If the target cannot take it, nothing changes; if the
 * target's commit fails after the store, the previous password is stored again.
 */
@ApplicationScoped
public class PasswordRotation {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final TargetLogin login;
    private final SecretSealer sealer;

    PasswordRotation(TargetLogin login, SecretSealer sealer) {
        this.login = login;
        this.sealer = sealer;
    }

    /** The target's side of one rotation: its connection and the open transaction that changes the password. */
    private static final class TargetChange {
        PgConnection pg;
        Transaction tx;
        byte[] previousSecret;
    }

    /** @param newPassword the new password, or null to generate one */
    public Uni<ConnectionService.Versioned> rotate(String name, String newPassword, String ifMatch, Actor actor,
            String source) {
        String password = newPassword != null ? newPassword : generated();
        TargetChange change = new TargetChange();
        return Panache.withTransaction(() -> AdminAuditEntry.changesAuditedHere()
                        .chain(() -> ConnectionService.findForChange(name, ifMatch, true))
                        .call(connection -> changeOnTarget(connection, password, change))
                        .invoke(connection -> {
                            connection.secret = sealer.seal(name, password);
                            connection.updatedAt = OffsetDateTime.now();
                        })
                        .call(connection -> AdminAuditEntry.record(actor, "connection.rotate", "connection/" + name,
                                details("rotated", newPassword == null, source))))
                .onFailure().call(() -> change.tx == null ? Uni.createFrom().voidItem()
                        : change.tx.rollback().onFailure().recoverWithNull())
                .call(() -> change.tx.commit().onFailure().call(failure -> restore(name, change, actor, source, failure)))
                .eventually(() -> change.pg == null ? Uni.createFrom().voidItem() : change.pg.close())
                .map(ConnectionService.Versioned::of);
    }

    private Uni<Void> changeOnTarget(ConnectionEntity connection, String password, TargetChange change) {
        change.previousSecret = connection.secret;
        String current = login.password(connection);
        return login.open(connection, current)
                .onFailure(TargetLogin.LoginFailed.class).transform(failure -> new ApiException(502,
                        "the password was not rotated: " + failure.getMessage()))
                .chain(pg -> {
                    change.pg = pg;
                    return pg.begin();
                })
                .chain(tx -> {
                    change.tx = tx;
                    return change.pg.query("ALTER ROLE CURRENT_USER PASSWORD '" + ScramVerifier.of(password) + "'")
                            .execute()
                            .ifNoItem().after(TargetLogin.LOGIN_TIMEOUT).failWith(TimeoutException::new)
                            .onFailure().transform(failure -> new ApiException(502, "the password was not rotated: the"
                                    + " target did not take the new password for user " + connection.username + ": "
                                    + failure.getMessage()));
                })
                .replaceWithVoid();
    }

    /** The target did not commit the new password: store the previous one again, audit that, and say so. */
    private Uni<Void> restore(String name, TargetChange change, Actor actor, String source, Throwable failure) {
        return Panache.withTransaction(() -> AdminAuditEntry.changesAuditedHere()
                        .chain(() -> ConnectionService.find(name))
                        .invoke(connection -> {
                            connection.secret = change.previousSecret;
                            connection.updatedAt = OffsetDateTime.now();
                        })
                        .call(() -> AdminAuditEntry.record(actor, "connection.rotate", "connection/" + name,
                                details("reverted", false, source))))
                .onItemOrFailure().transform((ignored, restoreFailure) -> {
                    throw new ApiException(502, "the target did not confirm the new password (" + failure.getMessage()
                            + "); " + (restoreFailure == null ? "the previous password is stored again; retry the rotation"
                                    : "and the previous password could not be stored again (" + restoreFailure.getMessage()
                                            + "): test the connection, and set the target's password with PUT"));
                });
    }

    private static Map<String, Object> details(String outcome, boolean generated, String source) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("outcome", outcome);
        details.put("generated", generated);
        details.put("source", source);
        return details;
    }

    /** 32 random bytes, base64url: 43 printable characters. */
    private static String generated() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
