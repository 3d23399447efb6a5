package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.portcullis.gateway.GatewayConfig;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real {@link PolicyDecider} built without CDI, for the JMH benchmarks in {@code dev.portcullis.gateway.bench}
 * (test code: the decider's constructor is package-private, and main code keeps it so).
 *
 * <p>Two things stand in for the running OPA: a fixed policy revision (instead of polling OPA's bundles), and a
 * stub HTTP server in this process, on a loopback port of its own, that answers every decision with one allow. A
 * benchmark asks it once per distinct input to fill the shared decision cache, then calls {@link #stopStub()}: what
 * is measured after that never leaves the cache. Metrics go to a Prometheus registry, as in the gateway.
 */
public final class OfflineDecider implements AutoCloseable {
    public static final String REVISION = "bench+0123456789abcdef";
    /** What OPA answers for an allowed request under the default policies (request.rego), cacheable for 300 s. */
    static final String ALLOW = "{\"result\":{\"allow\":true,\"reasons\":[\"developers may read and write data on"
            + " non-production connections\"],\"policy\":\"pg/role-dml\",\"cache_ttl_s\":300}}";

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer stub;
    private final AtomicInteger stubAnswers = new AtomicInteger();
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ObjectMapper json = quarkusLikeMapper();
    private final PolicyDecider decider;

    public OfflineDecider() throws Exception {
        stub = vertx.createHttpServer().requestHandler(req -> {
            stubAnswers.incrementAndGet();
            req.response().putHeader("Content-Type", "application/json").end(ALLOW);
        });
        stub.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        GatewayConfig config = config("http://127.0.0.1:" + stub.actualPort());
        PolicyRevision revision = new PolicyRevision(vertx, config) {
            @Override
            public String current() {
                return REVISION;
            }
        };
        decider = new PolicyDecider(config, json, revision, vertx, metrics);
    }

    public PolicyDecider decider() {
        return decider;
    }

    /** The mapper the decider serialises its inputs with (configured like Quarkus's default one). */
    public ObjectMapper json() {
        return json;
    }

    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    /** How many decisions the stub has answered (each one a cache miss). */
    public int stubAnswers() {
        return stubAnswers.get();
    }

    /** From here on a cache miss fails closed instead of reaching the stub. */
    public void stopStub() throws Exception {
        stub.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        metrics.close();
    }

    /** Quarkus's default ObjectMapper: the same modules and the features quarkus-jackson turns off. */
    private static ObjectMapper quarkusLikeMapper() {
        return JsonMapper.builder()
                .addModule(new Jdk8Module())
                .addModule(new JavaTimeModule())
                .addModule(new ParameterNamesModule())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .build();
    }

    /** The gateway's defaults for everything the decider reads; a longer decision timeout for the cold first call. */
    private static GatewayConfig config(String opaUrl) {
        GatewayConfig.Opa opa = new GatewayConfig.Opa() {
            @Override
            public String url() {
                return opaUrl;
            }

            @Override
            public Duration healthTimeout() {
                return Duration.ofSeconds(1);
            }

            @Override
            public Duration decisionTimeout() {
                return Duration.ofSeconds(10);
            }

            @Override
            public Duration revisionMaxAge() {
                return Duration.ofSeconds(5);
            }

            @Override
            public int cacheMaxEntries() {
                return 100_000;
            }

            @Override
            public Duration cacheMaxTtl() {
                return Duration.ofMinutes(5);
            }
        };
        GatewayConfig.Policy policy = () -> false;
        return new GatewayConfig() {
            @Override
            public String oidcIssuer() {
                throw new UnsupportedOperationException();
            }

            @Override
            public String oidcAudience() {
                throw new UnsupportedOperationException();
            }

            @Override
            public String secretKey() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Postgres postgres() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Opa opa() {
                return opa;
            }

            @Override
            public Policy policy() {
                return policy;
            }

            @Override
            public Recording recording() {
                throw new UnsupportedOperationException();
            }
        };
    }
}
