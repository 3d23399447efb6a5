package dev.portcullis.gateway.connection;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Looks up registered connections in PostgreSQL. Lookups are cached; a NOTIFY from the {@code connections}
 * trigger drops an entry as soon as the row changes, and a bounded age covers notifications lost while the
 * listener was reconnecting.
 */
@ApplicationScoped
public class ConnectionRegistry {
    private static final Logger LOG = Logger.getLogger(ConnectionRegistry.class);
    private static final Duration MAX_AGE = Duration.ofSeconds(60);
    private static final String SELECT = "SELECT name, type, host, port, database, username, secret, tls_mode, tls_ca_pem, "
            + "tags::text AS tags, settings::text AS settings FROM connections WHERE name = $1";

    private final Pool pool;
    private final ObjectMapper json;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(CompletableFuture<Optional<TargetConnection>> value, long loadedAtNanos) {
        boolean fresh() {
            return System.nanoTime() - loadedAtNanos < MAX_AGE.toNanos() && !value.isCompletedExceptionally();
        }
    }

    ConnectionRegistry(Pool pool, ObjectMapper json) {
        this.pool = pool;
        this.json = json;
    }

    /** Completes with the connection, empty when none has this name, or exceptionally when the registry is unreachable. */
    public CompletionStage<Optional<TargetConnection>> find(String name) {
        Cached cached = cache.get(name);
        if (cached != null && cached.fresh()) {
            return cached.value();
        }
        CompletableFuture<Optional<TargetConnection>> loading = pool.preparedQuery(SELECT).execute(Tuple.of(name))
                .map(rows -> rows.iterator().hasNext() ? Optional.of(toConnection(rows.iterator().next())) : Optional.<TargetConnection>empty())
                .subscribeAsCompletionStage();
        cache.put(name, new Cached(loading, System.nanoTime()));
        return loading;
    }

    public void invalidate(String name) {
        LOG.debugf("connection %s changed; dropping it from the cache", name);
        cache.remove(name);
    }

    public void invalidateAll() {
        cache.clear();
    }

    private TargetConnection toConnection(Row row) {
        Map<String, String> tags;
        Map<String, Object> settings;
        try {
            tags = json.readValue(row.getString("tags"), new TypeReference<Map<String, String>>() {
            });
        } catch (Exception e) {
            throw new IllegalStateException("connection " + row.getString("name") + " has tags that are not string pairs");
        }
        try {
            settings = json.readValue(row.getString("settings"), new TypeReference<Map<String, Object>>() {
            });
        } catch (Exception e) {
            throw new IllegalStateException("connection " + row.getString("name") + " has settings that are not a JSON object");
        }
        io.vertx.mutiny.core.buffer.Buffer secret = row.getBuffer("secret");
        return new TargetConnection(row.getString("name"), row.getString("type"), row.getString("host"),
                row.getInteger("port"), row.getString("database"), row.getString("username"),
                secret == null ? null : secret.getBytes(), TargetConnection.TlsMode.parse(row.getString("tls_mode")),
                row.getString("tls_ca_pem"), tags, settings);
    }
}
