package dev.portcullis.admin.connection;

import dev.portcullis.admin.error.ApiException;
import dev.portcullis.contract.SecretSealer;
import io.smallrye.mutiny.Uni;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.SslMode;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Logs in to a connection's target as the gateway does: its host, port, database and user, the stored password
 * (unsealed here, for this login only) and its TLS mode ({@code require}: encrypted, any certificate; {@code
 * verify-full}: the connection's CA, or the JVM's, and the host name). Bounded: the whole login gives up after
 * {@link #LOGIN_TIMEOUT}. Its errors say what failed and never contain the password.
 */
@ApplicationScoped
public class TargetLogin {
    static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final SecretSealer sealer;

    TargetLogin(Vertx vertx, SecretSealer sealer) {
        this.vertx = vertx;
        this.sealer = sealer;
    }

    /** Why a login failed, in words for the operator; never the password. */
    public static final class LoginFailed extends RuntimeException {
        public LoginFailed(String message) {
            super(message, null, false, false);
        }
    }

    /** The stored password of a postgres connection, unsealed; a 409 for another type, none stored, or a key that does not open it. */
    String password(ConnectionEntity connection) {
        if (!ConnectionTypes.POSTGRES.equals(connection.type)) {
            throw ApiException.conflict("connection '" + connection.name + "' is of type " + connection.type
                    + "; only a postgres connection has a password to log in with");
        }
        return unsealed(connection);
    }

    /** The stored password or credential, unsealed; a 409 when there is none or the key does not open it. */
    String unsealed(ConnectionEntity connection) {
        String what = ConnectionTypes.POSTGRES.equals(connection.type) ? "password" : "credential";
        if (connection.secret == null || connection.secret.length == 0) {
            throw ApiException.conflict("connection '" + connection.name + "' has no stored " + what + "; set one with PUT"
                    + " /connections/" + connection.name);
        }
        try {
            return sealer.open(connection.name, connection.secret);
        } catch (SecretSealer.SealedSecretException e) {
            throw ApiException.conflict("the stored " + what + " of connection '" + connection.name + "' cannot be opened"
                    + " with this admin API's key (" + e.getMessage() + "); set the " + what + " again with PUT");
        }
    }

    /** Opens a connection to the target; the caller closes it. Fails with {@link LoginFailed}. */
    Uni<PgConnection> open(ConnectionEntity connection, String password) {
        PgConnectOptions options = new PgConnectOptions()
                .setHost(connection.host)
                .setPort(connection.port)
                .setDatabase(connection.database)
                .setUser(connection.username)
                .setPassword(password)
                .setConnectTimeout((int) LOGIN_TIMEOUT.toMillis())
                .setReconnectAttempts(0);
        switch (connection.tlsMode == null ? TlsMode.REQUIRE : connection.tlsMode) {
            case TlsMode.DISABLE -> options.setSslMode(SslMode.DISABLE);
            case TlsMode.VERIFY_FULL -> {
                options.setSslMode(SslMode.VERIFY_FULL).setHostnameVerificationAlgorithm("HTTPS");
                if (connection.tlsCaPem != null) {
                    options.setPemTrustOptions(new PemTrustOptions()
                            .addCertValue(Buffer.buffer(connection.tlsCaPem.getBytes(StandardCharsets.US_ASCII))));
                }
            }
            default -> options.setSslMode(SslMode.REQUIRE).setTrustAll(true);
        }
        String where = connection.host + ":" + connection.port;
        return PgConnection.connect(vertx, options)
                .ifNoItem().after(LOGIN_TIMEOUT).failWith(() -> new TimeoutException())
                .onFailure().transform(failure -> new LoginFailed(describe(failure, where, connection, password)));
    }

    private static String describe(Throwable failure, String where, ConnectionEntity connection, String password) {
        String message;
        if (failure instanceof PgException pg) {
            message = "the target refused the login of user " + connection.username + " to database "
                    + connection.database + ": " + pg.getErrorMessage() + " (SQLSTATE " + pg.getSqlState() + ")";
        } else if (failure instanceof TimeoutException) {
            message = "no login at " + where + " within " + LOGIN_TIMEOUT.toSeconds() + " s";
        } else if (failure instanceof UnknownHostException) {
            message = "the host of " + where + " is unknown";
        } else if (failure instanceof ConnectException || failure.getCause() instanceof ConnectException) {
            message = "cannot reach " + where + ": " + failure.getMessage();
        } else if (failure instanceof SSLException || failure.getCause() instanceof SSLException) {
            message = "TLS (" + connection.tlsMode + ") with " + where + " failed: " + failure.getMessage();
        } else {
            message = "logging in at " + where + " failed: " + failure;
        }
        return password.isEmpty() ? message : message.replace(password, "***");
    }
}
