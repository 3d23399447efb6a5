package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.RegexDetectors;
import dev.portcullis.gateway.testing.Wire;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The content detectors (every kind, as a developer's plan runs them) over one 4 KB value, as a DataRow's text column
 * hands it over: its UTF-8 bytes. {@code impl=single-pass} is {@link Detectors#scan(byte[], Set)};
 * {@code impl=regex} is the regular expressions it replaced ({@link RegexDetectors}, the differential test's oracle),
 * with the value decoded first as the gateway did then.
 *
 * <ul>
 * <li>{@code md5-nothing}: a value of the row-4kb workload's {@code bench_wide} (128 md5 hex strings of "id:j"),
 *     which holds runs of 13 and more digits but no card that passes Luhn;
 * <li>{@code md5-card}: one that holds a Luhn-valid run, masked (about a third of bench_wide's values);
 * <li>{@code text-nothing}: 4 KB of prose with dates, amounts, order numbers and capitals, no finding;
 * <li>{@code text-findings}: 4 KB of prose with an address, a card, a phone number and an IBAN in every 512 bytes.
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

    @Param({"md5-nothing", "md5-card", "text-nothing", "text-findings"})
    public String value;

    @Param({"single-pass", "regex"})
    public String impl;

    private final Detectors detectors = new Detectors(ALL);
    private final RegexDetectors regex = new RegexDetectors(ALL);
    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
    private byte[] bytes;

    @Setup
    public void setUp() throws NoSuchAlgorithmException {
        String text = switch (value) {
            case "md5-nothing" -> md5Value(false);
            case "md5-card" -> md5Value(true);
            case "text-nothing" -> fill(PROSE);
            case "text-findings" -> fill(PROSE.repeat(4).substring(0, 512 - FINDINGS.length()) + FINDINGS);
            default -> throw new IllegalArgumentException("unknown value '" + value + "'");
        };
        bytes = text.getBytes(StandardCharsets.UTF_8);
        Set<Detectors.Kind> expected = switch (value) {
            case "md5-card" -> EnumSet.of(Detectors.Kind.CARD);
            case "text-findings" -> EnumSet.of(Detectors.Kind.EMAIL, Detectors.Kind.IBAN, Detectors.Kind.CARD, Detectors.Kind.PHONE);
            default -> EnumSet.noneOf(Detectors.Kind.class);
        };
        Set<Detectors.Kind> byRegex = EnumSet.noneOf(Detectors.Kind.class);
        String masked = regex.scan(text, byRegex);
        Set<Detectors.Kind> byPass = EnumSet.noneOf(Detectors.Kind.class);
        byte[] scanned = detectors.scan(bytes, byPass);
        Wire.check(byPass.equals(expected) && byRegex.equals(expected), value + ": fired " + byPass + " and " + byRegex + ", expected " + expected);
        Wire.check(expected.isEmpty() ? scanned == bytes && masked == text : new String(scanned, StandardCharsets.UTF_8).equals(masked),
                value + ": both give the same text");
    }

    /** A bench_wide value of about 4 KB with or without a Luhn-valid card in it, the first such id from 1. */
    private String md5Value(boolean withCard) throws NoSuchAlgorithmException {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        for (int id = 1; ; id++) {
            StringBuilder sb = new StringBuilder(4096);
            for (int j = 1; j <= 128; j++) {
                sb.append(HexFormat.of().formatHex(md5.digest((id + ":" + j).getBytes(StandardCharsets.US_ASCII))));
            }
            Set<Detectors.Kind> found = EnumSet.noneOf(Detectors.Kind.class);
            detectors.scan(sb.toString(), found);
            if (found.isEmpty() != withCard) {
                return sb.toString();
            }
        }
    }

    private static String fill(String unit) {
        return unit.repeat(4096 / unit.length() + 1).substring(0, 4096);
    }

    @Benchmark
    public Object scan() {
        fired.clear();
        if (impl.equals("regex")) {
            return regex.scan(new String(bytes, StandardCharsets.UTF_8), fired);
        }
        return detectors.scan(bytes, fired);
    }
}
