package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.masking.ColumnMask;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.masking.MaskPlan.TypeClass;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.SessionInternals;
import dev.portcullis.gateway.testing.Wire;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link MaskPlan#appendDataRow} on one row of the row-throughput scenario's {@code users(id bigint, email text, phone
 * text, note text)}, text format, with the plans the default policies give (data.json: {@code pii/email} method
 * email, {@code pii/phone} method partial with keep_last 2; detectors for the roles in {@code detector_roles}). Per
 * row; the row is read from and written to pooled direct buffers, as ResultMasking does (one output buffer per
 * run of frames, here cleared per row).
 *
 * <ul>
 * <li>{@code email-phone}: email and phone masked, no detectors (alice, group dba, as dev-services/bench runs it);
 * <li>{@code email-phone-detect-md5}: the same plus the detectors on id and note (a developer such as bob): the
 *     note is the bench table's md5 hex, whose digits make it worth scanning, and nothing is found;
 * <li>{@code detect-free-text}: the same plan, on a free-text note that holds a phone number and an address;
 * <li>{@code copy-unmasked}: a plan that masks no column and runs no detector, so the row is copied value by value.
 *     In the gateway such a plan {@link MaskPlan#passesUnchanged() passes rows unchanged} without calling
 *     appendDataRow at all: this is the floor of the rewrite, not a path a row takes.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class DataRowMaskingBenchmark {
    private static final ColumnMask EMAIL = new ColumnMask(ColumnMask.Method.EMAIL, 0, 4, '*', "pii/email");
    private static final ColumnMask PHONE = new ColumnMask(ColumnMask.Method.PARTIAL, 0, 2, '*', "pii/phone");
    /** md5('1234567'), the bench table's note for that id. */
    private static final String MD5_NOTE = "fcea920f7412b5da7be0cf42b8c93759";
    private static final String FREE_TEXT_NOTE = "Called back on +1 202 555 0142, prefers email: jane.doe@example.com. Renewal due in March.";

    @Param({"email-phone", "email-phone-detect-md5", "detect-free-text", "copy-unmasked"})
    public String row;

    private MaskPlan plan;
    private final boolean[] textFormat = new boolean[4];
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    private ByteBuf in;
    private ByteBuf out;
    private int length;

    @Setup
    public void setUp() {
        String note = row.equals("detect-free-text") ? FREE_TEXT_NOTE : MD5_NOTE;
        List<String> values = List.of("1234567", "user1234567@example.com", "+1-202-555-4567", note);
        boolean detect = row.startsWith("email-phone-detect") || row.equals("detect-free-text");
        boolean mask = !row.equals("copy-unmasked");
        Detectors detectors = new Detectors(detect ? EnumSet.allOf(Detectors.Kind.class) : EnumSet.noneOf(Detectors.Kind.class));
        // as MaskPlanner binds the default policy's answer: int8 is OTHER, so the detectors see it too
        plan = new MaskPlan(List.of(
                new MaskPlan.Column("id", "public", "users", "id", TypeClass.OTHER, null, detect),
                new MaskPlan.Column("email", "public", "users", "email", TypeClass.TEXT, mask ? EMAIL : null, false),
                new MaskPlan.Column("phone", "public", "users", "phone", TypeClass.TEXT, mask ? PHONE : null, false),
                new MaskPlan.Column("note", "public", "users", "note", TypeClass.TEXT, null, detect)),
                detectors, new KeyedHash(new byte[32]), "mask/columns");
        Wire.check(plan.passesUnchanged() == !mask, mask ? "the plan looks at rows" : "the gateway would not even look at these rows");

        byte[] bytes = new Wire.Stream().dataRow(values.toArray(String[]::new)).bytes();
        in = Wire.direct(bytes);
        length = bytes.length;
        out = Wire.ALLOC.directBuffer(256);

        maskRow();
        List<String> masked = Wire.dataRowValues(out, 0);
        List<String> expected = switch (row) {
            case "email-phone", "email-phone-detect-md5" -> List.of("1234567", "u***@example.com", "+*-***-***-**67", MD5_NOTE);
            case "detect-free-text" -> List.of("1234567", "u***@example.com", "+*-***-***-**67",
                    "Called back on +* *** *** **42, prefers email: j***@example.com. Renewal due in March.");
            case "copy-unmasked" -> values;
            default -> throw new IllegalArgumentException("unknown row '" + row + "'");
        };
        Wire.check(masked.equals(expected), row + ": expected " + expected + ", got " + masked);
        Set<Detectors.Kind> expectFired = row.equals("detect-free-text")
                ? EnumSet.of(Detectors.Kind.EMAIL, Detectors.Kind.PHONE) : EnumSet.noneOf(Detectors.Kind.class);
        Wire.check(fired.equals(expectFired), row + ": detectors fired " + fired + ", expected " + expectFired);
        Wire.check(Arrays.equals(textFormat, new boolean[4]), "text format");
    }

    @TearDown
    public void tearDown() {
        in.release();
        out.release();
    }

    @Benchmark
    public int maskRow() {
        out.clear();
        SessionInternals.maskDataRow(plan, in, 0, length, textFormat, out, fired);
        return out.writerIndex();
    }
}
