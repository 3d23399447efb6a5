package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.RegexDetectors;
import dev.portcullis.gateway.testing.Wire;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The content detectors (every kind, as a developer's plan runs them) over one 4 KB value, as a DataRow's text column
 * hands it over: its UTF-8 bytes. {@code impl=single-pass} is {@link Detectors#scan(byte[], Set)};
 * {@code impl=regex} is the regular expressions it replaced ({@link RegexDetectors}, the differential test's oracle),
 * with the value decoded first as the gateway did then.
 *
 * <p>Each case takes a different value on each call, in turn, as a workload does: a branch predictor that saw one
 * value a thousand times has learnt its bytes, and a benchmark of one value measured that (14 µs for an md5 value
 * that cost 44 µs in the gateway, where no value comes twice in a row).
 *
 * <ul>
 * <li>{@code md5-nothing}: 64 values of the row-4kb workload's {@code bench_wide} (128 md5 hex strings of "id:j"),
 *     which hold runs of 13 and more digits but no card that passes Luhn;
 * <li>{@code md5-card}: 64 that hold a Luhn-valid run, masked (about 28 % of bench_wide's values);
 * <li>{@code md5-mixed}: bench_wide's first 256 values, as the workload reads them;
 * <li>{@code text-nothing}: 64 values of 4 KB of prose with dates, amounts, order numbers and capitals, no finding;
 * <li>{@code text-findings}: 64 of prose with an address, a card, a phone number and an IBAN in every 512 bytes.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class DetectorsBenchmark {
    private static final Set<Detectors.Kind> ALL = EnumSet.allOf(Detectors.Kind.class);
    private static final String PROSE = "Order 10442 shipped on 2026-03-14 08:41 to Building C, floor 3. Invoice INV-2026-0042 "
            + "for EUR 1,249.50 (VAT 19%) is due in 30 days; ref. PO 7781-22. Contact the account team for a copy. ";
    private static final String FINDINGS = "Called back on +1 202 555 0142, prefers email: jane.doe@example.com; paid with "
            + "4242 4242 4242 4242, refund to GB82 WEST 1234 5698 7654 32. ";

    @Param({"md5-nothing", "md5-card", "md5-mixed", "text-nothing", "text-findings"})
    public String value;

    @Param({"single-pass", "regex"})
    public String impl;

    private final Detectors detectors = new Detectors(ALL);
    private final RegexDetectors regex = new RegexDetectors(ALL);
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    /** The values scanned in turn, and the next one's index. */
    private byte[][] values;
    private int next;

    @Setup
    public void setUp() {
        List<String> texts = switch (value) {
            case "md5-nothing" -> md5Values(false, 64);
            case "md5-card" -> md5Values(true, 64);
            case "md5-mixed" -> IntStream.rangeClosed(1, 256).mapToObj(DetectorsBenchmark::md5Value).toList();
            case "text-nothing" -> proseValues(false);
            case "text-findings" -> proseValues(true);
            default -> throw new IllegalArgumentException("unknown value '" + value + "'");
        };
        values = new byte[texts.size()][];
        for (int i = 0; i < values.length; i++) {
            String text = texts.get(i);
            values[i] = text.getBytes(StandardCharsets.UTF_8);
            Set<Detectors.Kind> byRegex = EnumSet.noneOf(Detectors.Kind.class);
            String masked = regex.scan(text, byRegex);
            Set<Detectors.Kind> byPass = EnumSet.noneOf(Detectors.Kind.class);
            byte[] scanned = detectors.scan(values[i], byPass);
            Wire.check(byPass.equals(byRegex), value + " " + i + ": fired " + byPass + " and " + byRegex);
            Wire.check(byRegex.isEmpty() ? scanned == values[i] && masked == text : new String(scanned, StandardCharsets.UTF_8).equals(masked),
                    value + " " + i + ": both give the same text");
            Set<Detectors.Kind> expected = switch (value) {
                case "md5-card" -> EnumSet.of(Detectors.Kind.CARD);
                case "text-findings" -> EnumSet.of(Detectors.Kind.EMAIL, Detectors.Kind.IBAN, Detectors.Kind.CARD, Detectors.Kind.PHONE);
                case "md5-mixed" -> byPass;
                default -> EnumSet.noneOf(Detectors.Kind.class);
            };
            Wire.check(byPass.equals(expected), value + " " + i + ": fired " + byPass + ", expected " + expected);
        }
    }

    /** bench_wide's value of this id: 128 md5 hex strings of "id:j", about 4 KB. */
    private static String md5Value(int id) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            StringBuilder sb = new StringBuilder(4096);
            for (int j = 1; j <= 128; j++) {
                sb.append(HexFormat.of().formatHex(md5.digest((id + ":" + j).getBytes(StandardCharsets.US_ASCII))));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first {@code count} bench_wide values from id 1 with (or without) a Luhn-valid card in them. */
    private List<String> md5Values(boolean withCard, int count) {
        List<String> found = new ArrayList<>();
        for (int id = 1; found.size() < count; id++) {
            String v = md5Value(id);
            Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
            detectors.scan(v, fired);
            if (fired.isEmpty() != withCard) {
                found.add(v);
            }
        }
        return found;
    }

    /**
     * 64 values of 4 KB of prose: {@link #PROSE}'s words in a random order with random numbers, dates and amounts, and
     * with {@code findings}, {@link #FINDINGS} in every 512 bytes. Without, only values in which nothing is found.
     */
    private List<String> proseValues(boolean findings) {
        Random random = new Random(64);
        String[] words = PROSE.split(" ");
        List<String> found = new ArrayList<>();
        while (found.size() < 64) {
            StringBuilder sb = new StringBuilder(4200);
            while (sb.length() < 4096) {
                if (findings && sb.length() % 512 > 512 - FINDINGS.length() - 16) {
                    sb.append(FINDINGS);
                }
                int r = random.nextInt(20);
                sb.append(switch (r) {
                    case 0 -> Integer.toString(random.nextInt(100_000));
                    case 1 -> String.format("%04d-%02d-%02d", 2000 + random.nextInt(30), 1 + random.nextInt(12), 1 + random.nextInt(28));
                    case 2 -> String.format("EUR %d.%02d", random.nextInt(10_000), random.nextInt(100));
                    default -> words[random.nextInt(words.length)];
                }).append(' ');
            }
            String text = sb.substring(0, 4096);
            Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
            detectors.scan(text, fired);
            if (fired.isEmpty() != findings) {
                found.add(text);
            }
        }
        return found;
    }

    @Benchmark
    public Object scan() {
        fired.clear();
        byte[] bytes = values[next];
        next = next + 1 == values.length ? 0 : next + 1;
        if (impl.equals("regex")) {
            return regex.scan(new String(bytes, StandardCharsets.UTF_8), fired);
        }
        return detectors.scan(bytes, fired);
    }
}
