package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.testing.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link PgFrameDecoder} over the byte streams of dev-services/bench, configured as ClientSession configures it once a
 * session relays: on the backend side DataRow and the rest travel in runs and only ReadyForQuery and ErrorResponse
 * come one per slice; on the client side every frame is checked to be a frontend type. Each read is a pooled direct
 * buffer of its own, filled from the stream as the socket transport fills one (that allocation and copy are in the
 * score); the slices the decoder passes on are released at the end of the pipeline. The score is per protocol
 * message.
 *
 * <p>The streams: one pgbench {@code -S -M prepared} transaction each way (libpq sends Bind, Describe portal, Execute,
 * Sync; PostgreSQL answers BindComplete, RowDescription, DataRow, CommandComplete, ReadyForQuery), and the
 * row-throughput scenario's {@code SELECT id, email, phone, note FROM users}: 2,000 DataRows arriving in 64 KB
 * reads that cut frames in two, so the decoder also keeps and merges partial frames.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class FrameDecodingBenchmark {
    static final int USER_ROWS = 2_000;
    /** RowDescription, the DataRows, CommandComplete, ReadyForQuery. */
    static final int USER_MESSAGES = USER_ROWS + 3;
    static final int READ_BYTES = 64 * 1024;

    /** The end of the pipeline: counts and releases what the decoder passes on. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        long objects;
        long bytes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            objects++;
            bytes += buf.readableBytes();
            buf.release();
        }
    }

    private final Sink backendSink = new Sink();
    private final Sink frontendSink = new Sink();
    private EmbeddedChannel backend;
    private EmbeddedChannel frontend;
    private ByteBuf preparedRequest;
    private ByteBuf preparedResponse;
    private ByteBuf userRows;
    private int[] userReadStarts;

    @Setup
    public void setUp() {
        backend = new EmbeddedChannel(new PgFrameDecoder(Wire.MAX_MESSAGE_BYTES, false,
                type -> type != PgProtocol.READY_FOR_QUERY && type != PgProtocol.ERROR_RESPONSE), backendSink);
        frontend = new EmbeddedChannel(new PgFrameDecoder(Wire.MAX_MESSAGE_BYTES, true), frontendSink);
        backend.config().setAllocator(Wire.ALLOC);
        frontend.config().setAllocator(Wire.ALLOC);

        Wire.Stream request = new Wire.Stream().bind("", "P0_1", "512734").describePortal("").execute("", 0).sync();
        Wire.check(request.messages() == 4, "4 frontend messages");
        preparedRequest = Wire.direct(request.bytes());

        Wire.Stream response = new Wire.Stream().bindComplete()
                .rowDescription(new Wire.Field("abalance", 16_397, 3, Wire.INT4, 4))
                .dataRow("-2817").commandComplete("SELECT 1").readyForQuery('I');
        Wire.check(response.messages() == 5, "5 backend messages");
        preparedResponse = Wire.direct(response.bytes());

        Wire.Stream rows = new Wire.Stream().rowDescription(new Wire.Field("id", 16_410, 1, Wire.INT8, 8),
                new Wire.Field("email", 16_410, 2, Wire.TEXT, -1), new Wire.Field("phone", 16_410, 3, Wire.TEXT, -1),
                new Wire.Field("note", 16_410, 4, Wire.TEXT, -1));
        for (int i = 1; i <= USER_ROWS; i++) {
            long id = 4_000_000L + i;
            rows.dataRow(Long.toString(id), "user" + id + "@example.com", String.format("+1-202-555-%04d", id % 10_000),
                    String.format("%08x", Long.hashCode(id * 0x9E3779B97F4A7C15L)) + "0f3c5e7a9b1d2f4e6a8c0e2a");
        }
        rows.commandComplete("SELECT " + USER_ROWS).readyForQuery('I');
        Wire.check(rows.messages() == USER_MESSAGES, USER_MESSAGES + " messages in the users result");
        userRows = Wire.direct(rows.bytes());
        int reads = (userRows.readableBytes() + READ_BYTES - 1) / READ_BYTES;
        Wire.check(reads >= 3, "the users result spans several reads");
        userReadStarts = new int[reads + 1];
        for (int i = 0; i < reads; i++) {
            userReadStarts[i] = i * READ_BYTES;
        }
        userReadStarts[reads] = userRows.readableBytes();

        // Once each, checked: every byte passes, in as many slices as the run filter makes, and every read is released.
        ByteBuf read = Wire.read(preparedResponse);
        backendReads(read);
        checkPassed(backendSink, 2, preparedResponse.readableBytes(), "a run of 4 frames, then ReadyForQuery");
        Wire.check(read.refCnt() == 0, "the backend read was released");
        read = Wire.read(preparedRequest);
        frontendReads(read);
        checkPassed(frontendSink, 4, preparedRequest.readableBytes(), "one slice per frontend frame");
        Wire.check(read.refCnt() == 0, "the frontend read was released");
        for (int round = 0; round < 2; round++) {
            ByteBuf[] userReads = new ByteBuf[reads];
            for (int i = 0; i < reads; i++) {
                userReads[i] = Wire.read(userRows, userReadStarts[i], userReadStarts[i + 1] - userReadStarts[i]);
            }
            backendReads(userReads);
            Wire.check(backendSink.bytes == userRows.readableBytes(), "all " + userRows.readableBytes()
                    + " bytes of the users result passed, got " + backendSink.bytes);
            Wire.check(backendSink.objects >= reads + 1 && backendSink.objects <= 2L * reads + 1,
                    "the users result passed as runs (one or two per read) and ReadyForQuery, got " + backendSink.objects);
            for (ByteBuf r : userReads) {
                Wire.check(r.refCnt() == 0, "every read of the users result was released");
            }
            backendSink.objects = backendSink.bytes = 0;
        }
    }

    private static void checkPassed(Sink sink, long objects, long bytes, String what) {
        Wire.check(sink.objects == objects && sink.bytes == bytes, what + ": expected " + objects + " slices of " + bytes
                + " bytes in all, got " + sink.objects + " of " + sink.bytes);
        sink.objects = 0;
        sink.bytes = 0;
    }

    /** Each read through the backend pipeline; an exception the decoder raised (EmbeddedChannel keeps it) is thrown. */
    private long backendReads(ByteBuf... reads) {
        for (ByteBuf read : reads) {
            backend.pipeline().fireChannelRead(read).fireChannelReadComplete();
        }
        backend.checkException();
        return backendSink.objects;
    }

    private long frontendReads(ByteBuf read) {
        frontend.pipeline().fireChannelRead(read).fireChannelReadComplete();
        frontend.checkException();
        return frontendSink.objects;
    }

    @TearDown
    public void tearDown() {
        Wire.check(backend.finishAndReleaseAll() == false && frontend.finishAndReleaseAll() == false,
                "nothing was left in the pipelines");
        preparedRequest.release();
        preparedResponse.release();
        userRows.release();
    }

    @Benchmark
    @OperationsPerInvocation(5)
    public long backendPreparedSelect() {
        return backendReads(Wire.read(preparedResponse));
    }

    @Benchmark
    @OperationsPerInvocation(4)
    public long frontendPreparedSelect() {
        return frontendReads(Wire.read(preparedRequest));
    }

    @Benchmark
    @OperationsPerInvocation(USER_MESSAGES)
    public long backendUserRows() {
        for (int i = 0; i < userReadStarts.length - 1; i++) {
            backend.pipeline().fireChannelRead(Wire.read(userRows, userReadStarts[i], userReadStarts[i + 1] - userReadStarts[i]))
                    .fireChannelReadComplete();
        }
        backend.checkException();
        return backendSink.objects;
    }
}
