package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.portcullis.gateway.masking.ColumnMask;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import dev.portcullis.gateway.protocol.postgres.sql.CopyFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Whatever rows a backend sends, masking either writes each value as its plan says or refuses the row with a
 * {@link MaskPlan.MaskingException} (the result is withheld): a masked column never carries more of its value than its
 * method keeps, a detector's finding is never passed on, and a COPY row, read back as COPY FROM reads it, holds the
 * masked values. The rows rewritten in a run of frames are spliced in place of the old ones, everything else unchanged.
 * Replayed from the corpus in every test run; fuzzed by the fuzz profile (gateway/pom.xml).
 */
class RewriterFuzzTest {
    private static final KeyedHash HASH = new KeyedHash(new byte[32]);
    private static final Detectors DETECTORS = new Detectors(EnumSet.allOf(Detectors.Kind.class));
    private static final char[] MASK_CHARS = {'*', '#', 'x', '7', '\u2022'};

    private enum Action { KEEP, DROP, ERROR, MASK }

    @FuzzTest(maxExecutions = 80_000)
    void dataRows(FuzzedDataProvider data) {
        MaskPlan plan = plan(data, MaskPlan.TypeClass.values());
        boolean[] binary = new boolean[plan.columnCount()];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = data.consumeBoolean();
        }
        ByteBuf run = Unpooled.buffer();
        List<Action> actions = new ArrayList<>();
        List<int[]> frames = new ArrayList<>();
        int count = data.consumeInt(1, 4);
        for (int f = 0; f < count; f++) {
            int start = run.writerIndex();
            Action action = data.pickValue(Action.values());
            if (action == Action.MASK && data.consumeBoolean()) {
                writeRow(run, rowValues(data, plan.columnCount()));
            } else {
                // anything a backend might send: a DataRow of any shape, or another message
                byte type = action == Action.MASK ? PgProtocol.DATA_ROW : data.consumeByte();
                byte[] body = data.consumeBytes(data.consumeInt(0, 48));
                run.writeByte(type).writeInt(body.length + 4).writeBytes(body);
            }
            actions.add(action);
            frames.add(new int[] {start, run.writerIndex() - start});
        }
        int stallAfter = data.consumeInt(0, count - 1);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();

        RowRewriter rewriter = new RowRewriter(UnpooledByteBufAllocator.DEFAULT);
        rewriter.begin(run);
        for (int f = 0; f <= stallAfter; f++) {
            int pos = frames.get(f)[0];
            int len = frames.get(f)[1];
            byte[] frame = ByteBufUtil.getBytes(run, pos, len);
            switch (actions.get(f)) {
                case KEEP -> expected.writeBytes(frame);
                case DROP -> rewriter.drop(pos, len);
                case ERROR -> {
                    ErrorResponse error = ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, "withheld");
                    rewriter.replaceWithError(pos, len, error);
                    ByteBuf encoded = error.encode(UnpooledByteBufAllocator.DEFAULT);
                    expected.writeBytes(ByteBufUtil.getBytes(encoded));
                    encoded.release();
                }
                case MASK -> {
                    ByteBuf o = rewriter.cut(pos);
                    int mark = o.writerIndex();
                    byte[] masked = mask(plan, frame, binary);
                    try {
                        DataRows.append(plan, run, pos, len, binary, o, EnumSet.noneOf(Detectors.Kind.class));
                        assertTrue(masked != null, "a row refused alone is refused in a run");
                        expected.writeBytes(masked);
                    } catch (MaskPlan.MaskingException e) {
                        assertNull(masked, "a row masked alone is masked in a run");
                        o.writerIndex(mark); // as ResultRelay does: nothing of the row goes out
                    }
                    rewriter.replaced(pos, len);
                }
            }
        }
        int next = frames.get(stallAfter)[0] + frames.get(stallAfter)[1];
        ByteBuf held = next < run.writerIndex() ? run.retainedSlice(next, run.writerIndex() - next) : null;
        ByteBuf out = rewriter.finish(next);
        if (expected.size() == 0) {
            assertNull(out, "nothing is sent when nothing is left");
        } else {
            assertArrayEquals(expected.toByteArray(), ByteBufUtil.getBytes(out), "kept frames unchanged, rewritten ones in their place");
            out.release();
        }
        if (held != null) {
            held.release();
        }
        assertEquals(0, run.refCnt(), "the run is released once it is sent");
    }

    @FuzzTest(maxExecutions = 30_000)
    void copyRows(FuzzedDataProvider data) {
        MaskPlan plan = plan(data, new MaskPlan.TypeClass[] {MaskPlan.TypeClass.TEXT, MaskPlan.TypeClass.OTHER});
        if (plan.passesUnchanged()) {
            return; // such a COPY is relayed without looking at its rows
        }
        CopyFormat format = data.consumeBoolean()
                ? new CopyFormat(CopyFormat.Kind.TEXT, data.pickValue(new Character[] {'\t', ',', '|'}), "\\N", '"', '"', data.consumeBoolean())
                : csv(data);
        CopyRows rows = new CopyRows(plan, format);
        if (format.header()) {
            byte[] header = data.consumeBytes(data.consumeInt(0, 32));
            ByteBuf in = copyData(header);
            ByteBuf out = Unpooled.buffer();
            rows.append(in, 0, in.readableBytes(), out, EnumSet.noneOf(Detectors.Kind.class));
            assertArrayEquals(ByteBufUtil.getBytes(in), ByteBufUtil.getBytes(out), "the header line passes as it is");
        }
        int count = data.consumeInt(1, 3);
        for (int r = 0; r < count; r++) {
            boolean wellFormed = data.consumeBoolean();
            List<String> values = new ArrayList<>();
            byte[] line;
            if (wellFormed) {
                for (int i = 0; i < plan.columnCount(); i++) {
                    values.add(data.consumeBoolean() ? null : utf8RoundTrip(data.consumeString(24)));
                }
                line = (encodeRow(format, values, data) + (data.consumeBoolean() ? "\n" : "\r\n")).getBytes(StandardCharsets.UTF_8);
            } else {
                line = data.consumeBytes(data.consumeInt(0, 64));
            }
            ByteBuf in = copyData(line);
            ByteBuf out = Unpooled.buffer();
            Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
            try {
                rows.append(in, 0, in.readableBytes(), out, fired);
            } catch (MaskPlan.MaskingException e) {
                assertTrue(!wellFormed, () -> "a row COPY TO writes was refused: " + e.getMessage() + " in " + new String(line, StandardCharsets.UTF_8));
                assertEquals(0, out.writerIndex(), "a refused row writes nothing");
                return; // the COPY is withheld from here on
            }
            assertEquals('d', out.getByte(0));
            assertEquals(out.readableBytes() - 1, out.getInt(1), "the length is recomputed");
            String written = out.toString(5, out.readableBytes() - 5, StandardCharsets.UTF_8);
            assertTrue(written.endsWith("\n"), "a row ends with its newline");
            if (!wellFormed) {
                continue; // a row COPY TO never writes: refused or passed on, but never a crash
            }
            List<String> back = decodeRow(format, written.substring(0, written.length() - (written.endsWith("\r\n") ? 2 : 1)));
            assertEquals(plan.columnCount(), back.size(), () -> "one field per column in " + written);
            for (int i = 0; i < values.size(); i++) {
                String v = values.get(i);
                String expected = v == null || !plan.touches(i) ? v : plan.maskText(i, v, EnumSet.noneOf(Detectors.Kind.class));
                assertEquals(expected, back.get(i), "column " + i + " reads back as its plan says");
                if (v != null && plan.touches(i)) {
                    assertMasked(plan.columns().get(i), v, back.get(i));
                }
            }
        }
    }

    // ---- plans and what their methods may reveal -----------------------------------------------------------------

    private static MaskPlan plan(FuzzedDataProvider data, MaskPlan.TypeClass[] types) {
        int n = data.consumeInt(1, 5);
        List<MaskPlan.Column> columns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            MaskPlan.TypeClass type = data.pickValue(types);
            int how = data.consumeInt(0, 2);
            ColumnMask mask = how == 2 ? new ColumnMask(data.pickValue(ColumnMask.Method.values()), data.consumeInt(0, 4),
                    data.consumeInt(0, 6), MASK_CHARS[data.consumeInt(0, MASK_CHARS.length - 1)], "fuzz/rule") : null;
            columns.add(new MaskPlan.Column("c" + i, "public", "t", "c" + i, type, mask, how == 1));
        }
        return new MaskPlan(columns, DETECTORS, HASH, "mask/fuzz");
    }

    /** What a column's masked value may show of the value: no more than its method keeps; no finding at all. */
    private static void assertMasked(MaskPlan.Column column, String value, String masked) {
        ColumnMask mask = column.mask();
        if (mask == null) {
            if (masked != null) {
                Set<Detectors.Kind> again = EnumSet.noneOf(Detectors.Kind.class);
                DETECTORS.scan(masked, again);
                assertTrue(again.isEmpty(), () -> "a finding " + again + " is left in the masked value " + masked);
            }
            return;
        }
        if (column.type() != MaskPlan.TypeClass.TEXT) {
            assertNull(masked, "a value of another type under a method becomes NULL");
            return;
        }
        switch (mask.method()) {
            case REDACT -> assertEquals(ColumnMask.REDACTED, masked);
            case NULL -> assertNull(masked);
            case HASH -> assertEquals(HASH.hex(value), masked);
            case PARTIAL -> {
                int[] in = value.codePoints().toArray();
                int[] out = masked.codePoints().toArray();
                assertEquals(in.length, out.length, "partial keeps the shape");
                int kept = 0;
                for (int i = 0; i < in.length; i++) {
                    if (Character.isLetterOrDigit(in[i]) && in[i] == out[i] && in[i] != mask.maskChar()) {
                        kept++;
                    }
                }
                assertTrue(kept <= mask.keepFirst() + mask.keepLast(), () -> "partial kept too much: " + masked);
            }
            case EMAIL -> {
                int at = masked.lastIndexOf('@');
                String local = at < 0 ? masked : masked.substring(0, at);
                assertTrue(local.codePoints().filter(c -> c != mask.maskChar()).count() <= 1, () -> "email kept too much: " + masked);
            }
            case CARD -> assertTrue(masked.chars().filter(c -> c >= '0' && c <= '9' && c != mask.maskChar()).count()
                    <= Math.min(mask.keepLast(), 4), () -> "card kept too much: " + masked);
        }
    }

    // ---- DataRow -------------------------------------------------------------------------------------------------

    private static List<byte[]> rowValues(FuzzedDataProvider data, int columns) {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < columns; i++) {
            int kind = data.consumeInt(0, 2);
            values.add(kind == 0 ? null : kind == 1 ? data.consumeString(32).getBytes(StandardCharsets.UTF_8)
                    : data.consumeBytes(data.consumeInt(0, 32)));
        }
        return values;
    }

    private static void writeRow(ByteBuf out, List<byte[]> values) {
        int start = out.writerIndex();
        out.writeByte('D').writeInt(0).writeShort(values.size());
        for (byte[] v : values) {
            if (v == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(v.length).writeBytes(v);
            }
        }
        out.setInt(start + 1, out.writerIndex() - start - 1);
    }

    /**
     * The masked form of a DataRow frame, checked value by value against the plan; null when the row is refused
     * (then it must not have had the plan's shape).
     */
    private static byte[] mask(MaskPlan plan, byte[] frame, boolean[] binary) {
        ByteBuf in = Unpooled.wrappedBuffer(frame);
        ByteBuf out = Unpooled.buffer();
        try {
            DataRows.append(plan, in, 0, frame.length, binary, out, EnumSet.noneOf(Detectors.Kind.class));
        } catch (MaskPlan.MaskingException e) {
            assertTrue(readRow(in) == null || readRow(in).size() != plan.columnCount(), () -> "a well-formed row was refused: " + e.getMessage());
            return null;
        }
        List<byte[]> values = readRow(in);
        List<byte[]> masked = readRow(out);
        assertTrue(values != null && masked != null && masked.size() == plan.columnCount(), "only rows of the plan's shape are masked");
        assertEquals(out.readableBytes() - 1, out.getInt(1), "the length is recomputed");
        for (int i = 0; i < values.size(); i++) {
            MaskPlan.Column c = plan.columns().get(i);
            byte[] v = values.get(i);
            byte[] m = masked.get(i);
            if (v == null || c.mask() == null && !c.detect()) {
                assertArrayEquals(v, m, "a column outside the plan passes unchanged");
            } else if (c.mask() != null) {
                String expected = c.type() == MaskPlan.TypeClass.TEXT ? c.mask().apply(new String(v, StandardCharsets.UTF_8), HASH) : null;
                assertArrayEquals(expected == null ? null : expected.getBytes(StandardCharsets.UTF_8), m,
                        "the bytes masked are what the method gives for the text");
                assertMasked(c, new String(v, StandardCharsets.UTF_8), expected);
            } else {
                byte[] expected = detected(c, v, binary[i]);
                int prefix = detectionPrefix(c, binary[i]);
                if (expected == null || m == null || v.length <= prefix || isUtf8(v, prefix)) {
                    assertArrayEquals(expected, m, () -> "every finding of a detector is masked: " + c.type() + " "
                            + java.util.HexFormat.of().formatHex(v) + " -> " + (m == null ? null : java.util.HexFormat.of().formatHex(m)));
                } else {
                    // bytes that are not UTF-8 are kept as they came, where the oracle saw each as U+FFFD
                    assertArrayEquals(Arrays.copyOf(expected, prefix), Arrays.copyOf(m, prefix), "the binary jsonb version byte is kept");
                    assertEquals(new String(expected, prefix, expected.length - prefix, StandardCharsets.UTF_8),
                            new String(m, prefix, m.length - prefix, StandardCharsets.UTF_8),
                            "every finding of a detector is masked, and the bytes around them are kept");
                }
            }
        }
        return ByteBufUtil.getBytes(out);
    }

    /** The bytes before the text that detection reads: a binary jsonb value's version byte. */
    private static int detectionPrefix(MaskPlan.Column c, boolean binary) {
        return c.type() == MaskPlan.TypeClass.JSONB && binary ? 1 : 0;
    }

    private static boolean isUtf8(byte[] v, int from) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(v, from, v.length - from));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    /**
     * What detection makes of a value: unchanged without a finding, else masked in place or NULL; computed on the value
     * decoded as UTF-8 (a byte that is not UTF-8 read as U+FFFD).
     */
    private static byte[] detected(MaskPlan.Column c, byte[] v, boolean binary) {
        int prefix = detectionPrefix(c, binary);
        if (v.length <= prefix) {
            return v;
        }
        Set<Detectors.Kind> found = EnumSet.noneOf(Detectors.Kind.class);
        String scanned = DETECTORS.scan(new String(v, prefix, v.length - prefix, StandardCharsets.UTF_8), found);
        if (found.isEmpty()) {
            return v;
        }
        boolean inPlace = c.type() == MaskPlan.TypeClass.TEXT || c.type() == MaskPlan.TypeClass.JSONB
                || c.type() == MaskPlan.TypeClass.CONTAINER && !binary;
        if (!inPlace || scanned == null) {
            return null;
        }
        assertMasked(c, null, scanned);
        byte[] body = scanned.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[prefix + body.length];
        System.arraycopy(v, 0, out, 0, prefix);
        System.arraycopy(body, 0, out, prefix, body.length);
        return out;
    }

    /** The values of a well-formed DataRow frame, or null when it is not one. */
    private static List<byte[]> readRow(ByteBuf row) {
        int end = row.writerIndex();
        if (end < 7 || row.getByte(0) != 'D' || row.getInt(1) != end - 1) {
            return null;
        }
        int n = row.getUnsignedShort(5);
        int pos = 7;
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (pos + 4 > end) {
                return null;
            }
            int len = row.getInt(pos);
            pos += 4;
            if (len < -1 || len > end - pos) {
                return null;
            }
            values.add(len < 0 ? null : ByteBufUtil.getBytes(row, pos, len));
            pos += Math.max(len, 0);
        }
        return pos == end ? values : null;
    }

    // ---- COPY rows, as COPY TO writes and COPY FROM reads them ---------------------------------------------------

    private static CopyFormat csv(FuzzedDataProvider data) {
        char quote = data.pickValue(new Character[] {'"', '\''});
        char escape = data.consumeBoolean() ? quote : '\\';
        return new CopyFormat(CopyFormat.Kind.CSV, data.pickValue(new Character[] {',', ';', '\t'}),
                data.consumeBoolean() ? "" : "NULL", quote, escape, data.consumeBoolean());
    }

    private static ByteBuf copyData(byte[] line) {
        return Unpooled.buffer().writeByte(PgProtocol.COPY_DATA).writeInt(line.length + 4).writeBytes(line);
    }

    private static String utf8RoundTrip(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static String encodeRow(CopyFormat f, List<String> values, FuzzedDataProvider data) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(f.delimiter());
            }
            String v = values.get(i);
            if (v == null) {
                sb.append(f.nullString());
            } else if (f.kind() == CopyFormat.Kind.TEXT) {
                for (char c : v.toCharArray()) {
                    switch (c) {
                        case '\\' -> sb.append("\\\\");
                        case '\n' -> sb.append("\\n");
                        case '\r' -> sb.append("\\r");
                        default -> sb.append(c == f.delimiter() ? "\\" + c : String.valueOf(c));
                    }
                }
            } else {
                boolean quote = data.consumeBoolean() || v.equals(f.nullString()) || v.indexOf(f.delimiter()) >= 0
                        || v.indexOf(f.quote()) >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0;
                if (!quote) {
                    sb.append(v);
                    continue;
                }
                sb.append(f.quote());
                for (char c : v.toCharArray()) {
                    if (c == f.quote() || c == f.escape()) {
                        sb.append(f.escape());
                    }
                    sb.append(c);
                }
                sb.append(f.quote());
            }
        }
        return sb.toString();
    }

    /** A row's values as COPY FROM reads them (PostgreSQL's copyfromparse.c, for the options used here). */
    private static List<String> decodeRow(CopyFormat f, String row) {
        List<String> out = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean inQuotes = false;
        for (int i = 0; i <= row.length(); i++) {
            if (i == row.length() || !inQuotes && row.charAt(i) == f.delimiter()) {
                String raw = field.toString();
                out.add(!quoted && raw.equals(f.nullString()) ? null : f.kind() == CopyFormat.Kind.TEXT ? CopyRows.textUnescape(raw) : raw);
                field.setLength(0);
                quoted = false;
                continue;
            }
            char c = row.charAt(i);
            if (f.kind() == CopyFormat.Kind.TEXT) {
                field.append(c);
                if (c == '\\' && i + 1 < row.length()) {
                    field.append(row.charAt(++i));
                }
            } else if (inQuotes) {
                if (c == f.escape() && i + 1 < row.length() && (row.charAt(i + 1) == f.quote() || row.charAt(i + 1) == f.escape())
                        && (f.escape() != f.quote() || row.charAt(i + 1) == f.quote())) {
                    field.append(row.charAt(++i));
                } else if (c == f.quote()) {
                    inQuotes = false;
                } else {
                    field.append(c);
                }
            } else if (c == f.quote()) {
                inQuotes = true;
                quoted = true;
            } else {
                field.append(c);
            }
        }
        return out;
    }
}
