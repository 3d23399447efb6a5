package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.testing.TestStack;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real {@link PolicyDecider} built without CDI, for the JMH benchmarks in {@code dev.portcullis.gateway.bench}
 * (test code: the decider's constructor is package-private, and main code keeps it so). It asks the dev stack's
 * real OPA ({@code OPA_URL} of {@code dev-services/stack.properties}, running the default policies), and follows
 * the policy revision with a real {@link PolicyRevision}. A benchmark asks once per distinct input to fill the shared
 * decision cache, then checks with {@link #opaEvaluations()} that nothing it measured left the cache. Metrics go to a
 * Prometheus registry, as in the gateway.
 */
public final class StackDecider implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ObjectMapper json = quarkusLikeMapper();
    private final PolicyRevision revision;
    private final PolicyDecider decider;

    public StackDecider() throws Exception {
        GatewayConfig config = config(TestStack.get("OPA_URL"));
        revision = new PolicyRevision(vertx, config);
        revision.start(null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (revision.current() == null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no policy revision from OPA at " + config.opa().url()
                        + " within 30 s; start the stack with: dev-services/stack up --deps-only");
            }
            Thread.sleep(50);
        }
        decider = new PolicyDecider(config, json, revision, vertx, metrics);
    }

    public PolicyDecider decider() {
        return decider;
    }

    /** The revision OPA runs now, as the decider sees it. */
    public String revision() {
        return revision.current();
    }

    /** Decisions OPA evaluated for this decider (each one a cache miss). */
    public long opaEvaluations() {
        var timer = metrics.find("portcullis.policy.decision").tag("source", "opa").timer();
        return timer == null ? 0 : timer.count();
    }

    /** The mapper the decider serialises its inputs with (configured like Quarkus's default one). */
    public ObjectMapper json() {
        return json;
    }

    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    @Override
    public void close() throws Exception {
        revision.stop(null);
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
            public int maxConnections() {
                return 8;
            }

            @Override
            public int maxQueued() {
                return 10_000;
            }

            @Override
            public Duration queueTimeout() {
                return Duration.ofSeconds(2);
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
            public Approval approval() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Shutdown shutdown() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Duration heartbeatInterval() {
                throw new UnsupportedOperationException();
            }

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
            public Ssh ssh() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Kubernetes kubernetes() {
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
