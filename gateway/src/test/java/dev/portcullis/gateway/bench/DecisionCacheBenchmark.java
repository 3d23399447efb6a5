package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.policy.StackDecider;
import dev.portcullis.gateway.protocol.postgres.SessionInternals;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.testing.Wire;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The lookups of a request whose decision is already known, for pgbench {@code -S} under {@code -M simple}: each
 * request is the analysis of a text with other literals, so equal to the remembered one by value, never by identity.
 *
 * <ul>
 * <li>{@code sessionMemoHit}: the session's {@code DecisionMemo} (RequestGate asks it first, with the decider's
 *     current revision);
 * <li>{@code sharedCacheHit}: {@link PolicyDecider#decide} served from the shared cache, which the memo saves a
 *     session from: the input serialised to JSON, its SHA-256 with the revision as the key, the Caffeine lookup,
 *     the timer, a fresh decision id;
 * <li>{@code sharedCacheInputJson}: for attribution, only the first of those steps (the decider's own mapper on
 *     the same input).
 * </ul>
 *
 * The decider is the real one (see {@link StackDecider}): its cache is filled by one answer of the stack's OPA,
 * and the run fails if anything measured reached OPA.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class DecisionCacheBenchmark {
    private static final int REQUESTS = 1_024;

    private StackDecider stack;
    private PolicyDecider decider;
    private SessionInternals.Memo memo;
    private SessionInternals.Request[] requests;
    private int next;

    @Setup
    public void setUp() throws Exception {
        stack = new StackDecider();
        decider = stack.decider();
        AnalysisCache sql = new AnalysisCache(new SqlAnalyzer());
        String[] texts = Workload.Statement.SELECT_ONLY.distinctTexts(REQUESTS, 7);
        requests = new SessionInternals.Request[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            requests[i] = SessionInternals.query(sql, Workload.session(), texts[i]);
        }
        Wire.check(requests[0].memoizable(), "pgbench's SELECT may be remembered by the session");
        Wire.check(requests[0].memoKey() != requests[1].memoKey() && requests[0].memoKey().equals(requests[1].memoKey()),
                "requests with other literals are equal, not identical");

        Decision first = decider.decide("request", requests[0].input()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Wire.check(first.allow() && !first.cached() && stack.revision().equals(first.revision()),
                "the first decision comes from OPA, allowed, under the revision: " + first);
        memo = new SessionInternals.Memo(Duration.ofMinutes(5));
        memo.put(requests[0].memoKey(), first);

        Wire.check(sessionMemoHit() == first, "the memo returns the remembered decision for another literal");
        Decision served = sharedCacheHit();
        Wire.check(served.allow() && served.cached(), "the shared cache serves another literal's input: " + served);
        Wire.check(sharedCacheInputJson().length > 300, "the input serialises to its JSON");
        Wire.check(stack.opaEvaluations() == 1, "only the first decision reached OPA, got " + stack.opaEvaluations());
        next = 0;
    }

    @TearDown
    public void tearDown() throws Exception {
        Wire.check(stack.opaEvaluations() == 1, "nothing measured reached OPA");
        stack.close();
    }

    private SessionInternals.Request nextRequest() {
        return requests[next++ & (REQUESTS - 1)];
    }

    @Benchmark
    public Decision sessionMemoHit() {
        return memo.get(nextRequest().memoKey(), decider.revision());
    }

    @Benchmark
    public Decision sharedCacheHit() {
        return decider.decide("request", nextRequest().input()).toCompletableFuture().join();
    }

    @Benchmark
    public byte[] sharedCacheInputJson() throws Exception {
        return stack.json().writeValueAsBytes(nextRequest().input());
    }
}
