package dev.portcullis.gateway.masking;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What to do with each column of one result shape: mask it with its method, run the detectors over it, or
 * pass it; value by value, so an engine rewrites its rows one at a time with memory for one row whatever the size
 * of the result. Immutable and shared between sessions.
 *
 * <p>Values are decoded as UTF-8. Only text-like columns keep a masked text: under any method, a column of
 * another type (numbers, dates, json, bytea) becomes NULL, which every type accepts in text and binary format.
 */
public final class MaskPlan {

    /** How a value of this type may be rewritten. */
    public enum TypeClass {
        /** String types (text, varchar, char, name, citext, enums, domains over them), json and xml: the value is its text in both formats. */
        TEXT,
        /** jsonb: text, and in binary format a version byte before it. */
        JSONB,
        /** Arrays and composite values: text format may be rewritten in place; in binary format a finding nulls the value. */
        CONTAINER,
        /** Numbers that may spell a card or an id (int8, numeric, custom types): a finding nulls the value. */
        OTHER,
        /** Values that cannot hold text worth detecting (bool, int4, float, dates, times, uuid): never scanned. */
        SCALAR
    }

    /** One column of the result: where it comes from and what the plan does with it. */
    public record Column(String label, String schema, String table, String sourceColumn, TypeClass type, ColumnMask mask,
            boolean detect) {
    }

    /** A masked column as the recording lists it: never a value, only which column and which rule. */
    public record MaskedColumn(String column, String schema, String table, String sourceColumn, String method, String rule) {
    }

    /** A row could not be masked; the result must not reach the client. */
    public static final class MaskingException extends RuntimeException {
        public MaskingException(String message) {
            super(message, null, false, false);
        }
    }

    private final List<Column> columns;
    private final Detectors detectors;
    private final KeyedHash hash;
    private final String policy;
    private final boolean passes;

    public MaskPlan(List<Column> columns, Detectors detectors, KeyedHash hash, String policy) {
        this.columns = List.copyOf(columns);
        this.detectors = detectors;
        this.hash = hash;
        this.policy = policy;
        this.passes = this.columns.stream().allMatch(c -> c.mask() == null && !c.detect());
    }

    /** True when rows pass unchanged: they need not even be looked at. */
    public boolean passesUnchanged() {
        return passes;
    }

    public int columnCount() {
        return columns.size();
    }

    public List<Column> columns() {
        return columns;
    }

    public String policy() {
        return policy;
    }

    public List<MaskedColumn> masked() {
        List<MaskedColumn> out = new ArrayList<>();
        for (Column c : columns) {
            if (c.mask() != null) {
                out.add(new MaskedColumn(c.label(), c.schema(), c.table(), c.sourceColumn(), c.mask().method().wireName(), c.mask().rule()));
            }
        }
        return out;
    }

    /**
     * Appends the masked form of column {@code index}'s value at {@code in[pos, pos + len)} to {@code out} as a
     * length-prefixed field (int32 length, -1 for NULL), the form of a PostgreSQL DataRow's fields.
     *
     * @param len    the value's length, -1 for NULL
     * @param binary whether the value is in binary format
     * @param fired  collects the detectors that found something
     */
    public void appendField(int index, ByteBuf in, int pos, int len, boolean binary, ByteBuf out, Set<Detectors.Kind> fired) {
        Column column = columns.get(index);
        if (len == -1 || (column.mask() == null && !column.detect())) {
            out.writeInt(len);
            if (len > 0) {
                out.writeBytes(in, pos, len);
            }
        } else if (column.mask() != null && column.type() == TypeClass.TEXT && column.mask().writeAscii(in, pos, len, out)) {
            // masked from the bytes themselves
        } else {
            writeValue(out, rewrite(column, in, pos, len, binary, fired));
        }
    }

    /** A value, in the wire form of its column: a byte array, or null for SQL NULL; {@link #UNCHANGED} to copy the input. */
    private static final byte[] UNCHANGED = new byte[0];

    private byte[] rewriteValue(Column column, ByteBuf in, int pos, int len, boolean binary, Set<Detectors.Kind> fired) {
        if (column.mask() != null) {
            if (column.type() != TypeClass.TEXT) {
                return null;
            }
            String masked = column.mask().apply(in.toString(pos, len, StandardCharsets.UTF_8), hash);
            return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
        }
        int prefix = column.type() == TypeClass.JSONB && binary ? 1 : 0;
        if (len <= prefix) {
            return UNCHANGED;
        }
        // the detectors read the bytes themselves: one copy out of the buffer, nothing decoded
        byte[] text = new byte[len - prefix];
        in.getBytes(pos + prefix, text);
        byte[] body = detectors.scan(text, fired);
        if (body == text) {
            return UNCHANGED;
        }
        boolean inPlace = column.type() == TypeClass.TEXT || column.type() == TypeClass.JSONB
                || column.type() == TypeClass.CONTAINER && !binary;
        if (!inPlace || body == null) {
            return null;
        }
        if (prefix == 0) {
            return body;
        }
        byte[] withVersion = new byte[body.length + 1];
        withVersion[0] = in.getByte(pos);
        System.arraycopy(body, 0, withVersion, 1, body.length);
        return withVersion;
    }

    private Object rewrite(Column column, ByteBuf in, int pos, int len, boolean binary, Set<Detectors.Kind> fired) {
        byte[] value = rewriteValue(column, in, pos, len, binary, fired);
        return value == UNCHANGED ? in.slice(pos, len) : value;
    }

    private static void writeValue(ByteBuf out, Object value) {
        if (value == null) {
            out.writeInt(-1);
        } else if (value instanceof byte[] bytes) {
            out.writeInt(bytes.length).writeBytes(bytes);
        } else {
            ByteBuf slice = (ByteBuf) value;
            out.writeInt(slice.readableBytes()).writeBytes(slice, slice.readerIndex(), slice.readableBytes());
        }
    }

    /** Masks column {@code index}'s value given as text (a COPY field, already unescaped). Returns the new text, or null for NULL. */
    public String maskText(int index, String value, Set<Detectors.Kind> fired) {
        Column column = columns.get(index);
        if (column.mask() != null) {
            return column.type() == TypeClass.TEXT ? column.mask().apply(value, hash) : null;
        }
        if (!column.detect()) {
            return value;
        }
        String scanned = detectors.scan(value, fired);
        if (scanned == value) {
            return value;
        }
        return column.type() == TypeClass.OTHER ? null : scanned; // null too when the detectors gave up on it
    }

    /** Whether column {@code index}'s values need to be looked at. */
    public boolean touches(int index) {
        Column column = columns.get(index);
        return column.mask() != null || column.detect();
    }
}
