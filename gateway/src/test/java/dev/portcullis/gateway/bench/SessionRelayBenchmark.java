package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.StackDecider;
import dev.portcullis.gateway.protocol.postgres.SessionInternals;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Wire;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
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
 * One pgbench {@code -S} transaction through a logged-in session's relay, in process: the client's read decoded
 * and passed through the {@code RequestGate} to the backend, the backend's read decoded and relayed to the client
 * (see {@link SessionInternals.Relay}). Enforcement is on, masking and recording are off, and there is no TLS and
 * no socket: this is the gateway's own CPU per transaction on the event loop, minus those. Each read is a pooled
 * direct buffer of its own, as the transport delivers it.
 *
 * <ul>
 * <li>{@code preparedSelect}: {@code -M prepared}; Bind, Describe, Execute and Sync need no decision.
 * <li>{@code simpleSelect}: {@code -M simple}; every Query carries other literals, so its text is decoded and
 *     analysed (AnalysisCache misses, the parse is remembered) and its decision comes from the session memo.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class SessionRelayBenchmark {
    private static final int MASK = Workload.TEXTS - 1;

    private StackDecider stack;
    private SessionInternals.Relay relay;
    private byte[] preparedRequestBytes;
    private ByteBuf preparedRequest;
    private ByteBuf preparedResponse;
    private ByteBuf simpleResponse;
    /** Every Query of the pool, one after the other, and where each starts. */
    private ByteBuf queries;
    private final int[] queryStart = new int[Workload.TEXTS + 1];
    private int next;

    @Setup
    public void setUp() throws Exception {
        stack = new StackDecider();
        AnalysisCache sql = new AnalysisCache(new SqlAnalyzer());
        Session session = new Session(Workload.SESSION_ID, Workload.BOB, Workload.BENCH, Workload.session(),
                new Session.Parts(stack.decider(), null, new SessionRegistry(), null, null), java.util.List.of(), Runnable::run, null);
        relay = new SessionInternals.Relay(session, sql, Wire.ALLOC, Wire.MAX_MESSAGE_BYTES);

        preparedRequestBytes = new Wire.Stream().bind("", "P0_1", "512734").describePortal("").execute("", 0).sync().bytes();
        Wire.Field abalance = new Wire.Field("abalance", 16_397, 3, Wire.INT4, 4);
        byte[] preparedResponseBytes = new Wire.Stream().bindComplete().rowDescription(abalance).dataRow("-2817")
                .commandComplete("SELECT 1").readyForQuery('I').bytes();
        byte[] simpleResponseBytes = new Wire.Stream().rowDescription(abalance).dataRow("-2817").commandComplete("SELECT 1")
                .readyForQuery('I').bytes();
        preparedRequest = Wire.direct(preparedRequestBytes);
        preparedResponse = Wire.direct(preparedResponseBytes);
        simpleResponse = Wire.direct(simpleResponseBytes);

        String[] texts = Workload.Statement.SELECT_ONLY.distinctTexts(Workload.TEXTS, 11);
        Wire.Stream all = new Wire.Stream();
        int at = 0;
        for (int i = 0; i < texts.length; i++) {
            queryStart[i] = at;
            all.query(texts[i]);
            at = all.size();
        }
        queryStart[texts.length] = at;
        queries = Wire.direct(all.bytes());

        // The session's first -S is decided by OPA and fills the shared cache.
        SessionInternals.Request first = SessionInternals.query(sql, Workload.session(), texts[texts.length - 1]);
        Decision allowed = stack.decider().decide("request", first.input()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        Wire.check(allowed.allow(), "OPA allows -S: " + allowed);

        byte[] sent = roundTrip(Wire.read(preparedRequest), preparedResponse);
        Wire.check(Arrays.equals(sent, preparedRequestBytes), "-M prepared: the client's messages reach the backend unchanged");
        double memoHits = memoHits();
        for (int i = 0; i < 2; i++) {
            int q = next;
            byte[] query = roundTrip(nextQuery(), simpleResponse);
            byte[] expected = new byte[queryStart[q + 1] - queryStart[q]];
            queries.getBytes(queryStart[q], expected);
            Wire.check(Arrays.equals(query, expected), "-M simple: the Query reaches the backend unchanged (allowed)");
        }
        Wire.check(memoHits() == memoHits + 1, "the second Query's decision came from the session memo");
        Wire.check(stack.opaEvaluations() == 1, "no Query went to OPA");
        next = 0;
    }

    /** One transaction, checked: returns what the backend got; the client must get the backend's answer unchanged. */
    private byte[] roundTrip(ByteBuf request, ByteBuf response) {
        relay.clientRead(request);
        byte[] sent = relay.takeToBackend();
        ByteBuf answer = Wire.read(response);
        relay.backendRead(answer);
        byte[] answered = relay.takeToClient();
        Wire.check(request.refCnt() == 0 && answer.refCnt() == 0, "both reads were released");
        byte[] expected = new byte[response.readableBytes()];
        response.getBytes(response.readerIndex(), expected);
        Wire.check(Arrays.equals(answered, expected), "the backend's answer reaches the client unchanged (no denial)");
        return sent;
    }

    private double memoHits() {
        return stack.metrics().get("portcullis.policy.session.memo.hits").counter().count();
    }

    /** The next Query, as the client's socket read delivers it. */
    private ByteBuf nextQuery() {
        int q = next++ & MASK;
        return Wire.read(queries, queryStart[q], queryStart[q + 1] - queryStart[q]);
    }

    @TearDown
    public void tearDown() throws Exception {
        relay.close();
        Wire.check(preparedRequest.refCnt() == 1 && preparedResponse.refCnt() == 1 && simpleResponse.refCnt() == 1
                && queries.refCnt() == 1, "every read was released");
        preparedRequest.release();
        preparedResponse.release();
        simpleResponse.release();
        queries.release();
        Wire.check(stack.opaEvaluations() == 1, "nothing measured reached OPA");
        stack.close();
    }

    @Benchmark
    public long preparedSelect() {
        relay.clientRead(Wire.read(preparedRequest));
        long bytes = relay.drainToBackend();
        relay.backendRead(Wire.read(preparedResponse));
        return bytes + relay.drainToClient();
    }

    @Benchmark
    public long simpleSelect() {
        relay.clientRead(nextQuery());
        long bytes = relay.drainToBackend();
        relay.backendRead(Wire.read(simpleResponse));
        return bytes + relay.drainToClient();
    }
}
