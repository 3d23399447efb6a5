package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.portcullis.gateway.GatewayConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * Asks OPA for decisions and caches them. The cache key is a hash of the complete input plus the policy
 * revision in force, so a cached decision is exactly what OPA would answer again: sound by construction.
 * Every failure (OPA down, slow, undefined or malformed answer) is a denial that names its cause.
 */
@ApplicationScoped
public class PolicyDecider {
    private static final CompletionStage<Decision> PASS_THROUGH = CompletableFuture.completedFuture(
            new Decision(true, java.util.List.of(), "gateway/pass-through", null, null, java.util.List.of(), 0, "pass-through", null, 0,
                    false));

    private static final CompletionStage<MaskDecision> PASS_THROUGH_MASK = CompletableFuture.completedFuture(
            new MaskDecision(java.util.List.of(), java.util.List.of(), "gateway/pass-through", 0, "pass-through", null));

    private static final Logger LOG = Logger.getLogger(PolicyDecider.class);

    private final GatewayConfig.Opa config;
    private final ObjectMapper json;
    private final PolicyRevision revision;
    private final AsyncCache<ByteBuffer, PolicyAnswer> cache;
    private final String idPrefix = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    private final AtomicLong sequence = new AtomicLong();
    private final boolean passThrough;
    private final WebClient http;
    private final Timer evaluated;
    private final Timer fromCache;
    private final io.micrometer.core.instrument.Counter fromSessionMemo;
    private final Map<String, LongAdder> outcomes = Map.of(
            "allow", new LongAdder(), "deny", new LongAdder(),
            "approval", new LongAdder(), "unavailable", new LongAdder());

    PolicyDecider(GatewayConfig config, ObjectMapper json, PolicyRevision revision, Vertx vertx, MeterRegistry metrics) {
        this.config = config.opa();
        this.json = json;
        this.revision = revision;
        this.passThrough = config.policy().passThrough();
        if (passThrough) {
            LOG.warn("POLICY ENFORCEMENT IS OFF (portcullis.policy.pass-through=true): every request is allowed. "
                    + "This mode exists for benchmarks of the bare relay; never run it in front of real data.");
        }
        long maxTtlNanos = this.config.cacheMaxTtl().toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(this.config.cacheMaxEntries())
                .expireAfter(new Expiry<ByteBuffer, PolicyAnswer>() {
                    @Override
                    public long expireAfterCreate(ByteBuffer key, PolicyAnswer d, long now) {
                        return d.revision() == null ? 0 : Math.min(maxTtlNanos, TimeUnit.SECONDS.toNanos(d.cacheTtlS()));
                    }

                    @Override
                    public long expireAfterUpdate(ByteBuffer key, PolicyAnswer d, long now, long current) {
                        return expireAfterCreate(key, d, now);
                    }

                    @Override
                    public long expireAfterRead(ByteBuffer key, PolicyAnswer d, long now, long current) {
                        return current;
                    }
                })
                .recordStats()
                .buildAsync();
        // Built here, not at startup: the listener may take a session before other startup observers ran.
        // Sized for thousands of sessions: decisions queue (boundedly) for a connection, and the decision timeout
        // starts only once one is theirs, so a burst waits its turn instead of being denied for a full pool.
        http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true)
                .setMaxPoolSize(this.config.maxConnections()).setMaxWaitQueueSize(this.config.maxQueued()));
        CaffeineCacheMetrics.monitor(metrics, cache, "portcullis.decisions");
        // Histogram buckets rather than client-side percentiles: recording stays lock-free on the event loops.
        evaluated = Timer.builder("portcullis.policy.decision").tag("source", "opa").publishPercentileHistogram().register(metrics);
        fromCache = Timer.builder("portcullis.policy.decision").tag("source", "cache").publishPercentileHistogram().register(metrics);
        fromSessionMemo = io.micrometer.core.instrument.Counter.builder("portcullis.policy.session.memo.hits")
                .description("Decisions a session reused for a repeated request without asking the cache or OPA")
                .register(metrics);
    }

    /** Whether enforcement is off (benchmarks of the bare relay only). */
    public boolean passThrough() {
        return passThrough;
    }

    /** Upper bound on the life of any remembered decision. */
    public java.time.Duration cacheMaxTtl() {
        return config.cacheMaxTtl();
    }

    /** Counts a decision a session reused from its own memory (see DecisionMemo). */
    public void recordSessionMemoHit() {
        fromSessionMemo.increment();
    }

    /** The policy revision in force, or null when unknown (then nothing may be served from memory). */
    public String revision() {
        return passThrough ? "pass-through" : revision.current();
    }

    /**
     * @param entry the contract's entry point: {@code session}, {@code request}, {@code approve}
     * @return never completes exceptionally; failures are denials
     */
    public CompletionStage<Decision> decide(String entry, DecisionInput input) {
        if (passThrough) {
            return PASS_THROUGH;
        }
        return ask(entry, input, DecisionParser::parse, Decision::failClosed)
                .thenApply(a -> a.answer().served(nextId(), a.micros(), a.cached()))
                .whenComplete((d, failure) -> count(d));
    }

    /** Decisions since start by outcome: allow, deny, approval, unavailable (the gateway failed closed). */
    public Map<String, Long> outcomes() {
        Map<String, Long> counts = new TreeMap<>();
        outcomes.forEach((outcome, n) -> counts.put(outcome, n.sum()));
        return counts;
    }

    private void count(Decision d) {
        String outcome = d == null || "gateway/fail-closed".equals(d.policy()) ? "unavailable"
                : d.allow() ? "allow" : d.approval() != null && d.approval().required() ? "approval" : "deny";
        outcomes.get(outcome).increment();
    }

    /**
     * The masking plan for a result shape ({@code portcullis/mask}).
     *
     * @return never completes exceptionally; a failure is a {@link MaskDecision#failed() failed} decision
     */
    public CompletionStage<MaskDecision> mask(DecisionInput.MaskInput input) {
        if (passThrough) {
            return PASS_THROUGH_MASK;
        }
        return ask("mask", input, DecisionParser::parseMask, MaskDecision::failClosed).thenApply(Answered::answer);
    }

    private record Answered<T>(T answer, long micros, boolean cached) {
    }

    private interface Parser<T> {
        T parse(com.fasterxml.jackson.databind.JsonNode body, String revision);
    }

    /** One answer from the cache, or from OPA; failures become {@code failClosed(reason)}. */
    @SuppressWarnings("unchecked")
    private <T extends PolicyAnswer> CompletionStage<Answered<T>> ask(String entry, Object input, Parser<T> parser,
            java.util.function.Function<String, T> failClosed) {
        long start = System.nanoTime();
        byte[] body;
        try {
            body = json.writeValueAsBytes(input);
        } catch (Exception e) {
            LOG.error("cannot serialise a decision input", e);
            return CompletableFuture.completedFuture(new Answered<>(failClosed.apply("the gateway could not build the policy input"), 0, false));
        }
        String rev = revision.current();
        if (rev == null) {
            // Revision unknown or stale: a cached answer might come from an older policy, so ask OPA.
            return evaluate(entry, body, null, start, parser, failClosed).thenApply(a -> new Answered<>(a, micros(start), false));
        }
        ByteBuffer key = key(entry, rev, body);
        boolean[] asked = {false};
        CompletableFuture<PolicyAnswer> result = cache.get(key, (k, executor) -> {
            asked[0] = true;
            return evaluate(entry, body, rev, start, parser, failClosed).toCompletableFuture().thenApply(a -> (PolicyAnswer) a);
        });
        if (asked[0]) {
            return result.thenApply(a -> new Answered<>((T) a, micros(start), false));
        }
        if (result.isDone() && !result.isCompletedExceptionally()) {
            long micros = micros(start);
            fromCache.record(micros, TimeUnit.MICROSECONDS);
            return CompletableFuture.completedFuture(new Answered<>((T) result.join(), micros, true));
        }
        // Another session asked OPA for the same input a moment ago: share its answer.
        return result.thenApply(a -> new Answered<>((T) a, micros(start), true));
    }

    private static long micros(long start) {
        return (System.nanoTime() - start) / 1_000;
    }

    private <T> CompletionStage<T> evaluate(String entry, byte[] body, String rev, long start, Parser<T> parser,
            java.util.function.Function<String, T> failClosed) {
        CompletableFuture<T> result = new CompletableFuture<>();
        http.postAbs(config.url() + "/v1/data/portcullis/" + entry + "/decision")
                .putHeader("Content-Type", "application/json")
                .connectTimeout(config.queueTimeout().toMillis())
                .idleTimeout(config.decisionTimeout().toMillis())
                .sendBuffer(Buffer.buffer().appendString("{\"input\":").appendBytes(body).appendString("}"))
                .onComplete(ar -> {
                    T d;
                    if (ar.failed()) {
                        d = failClosed.apply(failure(ar.cause()));
                        LOG.warnf("OPA %s decision failed: %s", entry, ar.cause().toString());
                    } else if (ar.result().statusCode() != 200) {
                        d = failClosed.apply("the policy engine answered HTTP " + ar.result().statusCode());
                        LOG.warnf("OPA %s decision: HTTP %d %s", entry, ar.result().statusCode(), ar.result().bodyAsString());
                    } else {
                        try {
                            d = parser.parse(json.readTree(ar.result().body().getBytes()), rev);
                        } catch (DecisionParser.InvalidDecisionException e) {
                            d = failClosed.apply(e.getMessage());
                            LOG.warnf("OPA %s decision rejected: %s", entry, e.getMessage());
                        } catch (Exception e) {
                            d = failClosed.apply("the policy engine's answer is not valid JSON");
                        }
                    }
                    evaluated.record(micros(start), TimeUnit.MICROSECONDS);
                    result.complete(d);
                });
        return result;
    }

    /** Why a call to OPA failed, for the client; a full queue is the gateway's overload, not OPA's slowness. */
    private String failure(Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (message.contains("when getting a connection") || message.contains("wait queue")) {
            return "the gateway is overloaded: no connection to the policy engine was free within "
                    + config.queueTimeout().toMillis() + " ms; try again";
        }
        if (cause instanceof TimeoutException || message.contains("timeout")) {
            return "the policy engine did not answer within " + config.decisionTimeout().toMillis() + " ms";
        }
        return "the policy engine is unreachable";
    }

    private String nextId() {
        return idPrefix + "-" + sequence.incrementAndGet();
    }

    private static ByteBuffer key(String entry, String revision, byte[] body) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(entry.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(revision.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            return ByteBuffer.wrap(sha.digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
