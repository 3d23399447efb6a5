package dev.portcullis.gateway.session;

import dev.portcullis.contract.Channels;
import dev.portcullis.gateway.approval.Approvals;
import dev.portcullis.gateway.connection.ConnectionRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * LISTENs on the gateway's NOTIFY channels: connection changes invalidate the registry cache, approval changes release
 * held requests, grant changes reach the identity's sessions, and kill
 * requests end a session if this replica holds it. Reconnects forever; after each reconnect the whole cache
 * is dropped, since notifications sent meanwhile are lost.
 */
@ApplicationScoped
public class NotificationListener {
    private static final Logger LOG = Logger.getLogger(NotificationListener.class);

    /** What the client of a killed session is told. */
    static final String KILLED_MESSAGE = "terminating connection: an administrator ended this session through Portcullis";

    private final PgSubscriber subscriber;

    NotificationListener(Vertx vertx, ConnectionRegistry connections, SessionRegistry sessions, Approvals approvals,
            @ConfigProperty(name = "quarkus.datasource.reactive.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") String user,
            @ConfigProperty(name = "quarkus.datasource.password") String password) {
        PgConnectOptions options = PgConnectOptions.fromUri(url).setUser(user).setPassword(password);
        subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(attempt -> Math.min(5_000L, 200L * (attempt + 1)));
        subscriber.channel(Channels.CONNECTION_CHANGED)
                .subscribeHandler(v -> connections.invalidateAll())
                .handler(connections::invalidate);
        // after a reconnect, what was notified meanwhile is lost: every waiting approval and every grant is read again
        subscriber.channel(Channels.APPROVALS).subscribeHandler(v -> approvals.changedAll()).handler(approvals::changed);
        subscriber.channel(Channels.GRANTS).subscribeHandler(v -> sessions.grantsChanged(null)).handler(sessions::grantsChanged);
        subscriber.channel(Channels.KILL_SESSION).handler(id -> {
            if (sessions.kill(id, KILLED_MESSAGE)) {
                LOG.infof("session %s killed by administrator request", id);
            }
        });
    }

    void start(@Observes StartupEvent event) {
        subscriber.connect().onFailure(e -> LOG.warnf("cannot LISTEN for connection changes and kill requests yet: %s; retrying",
                e.getMessage()));
    }

    void stop(@Observes ShutdownEvent event) {
        subscriber.close();
    }
}
