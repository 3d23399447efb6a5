package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import dev.portcullis.gateway.protocol.postgres.sql.CopyFormat;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Masks the rows of one {@code COPY ... TO STDOUT} in text or CSV format, one CopyData message (one row, as
 * PostgreSQL sends them) at a time, with the plan of the COPY's columns. A row whose fields do not match the
 * plan is an error, never passed on raw. Confined to one session.
 */
final class CopyRows {
    private final MaskPlan plan;
    private final CopyFormat format;
    private boolean headerPending;

    CopyRows(MaskPlan plan, CopyFormat format) {
        if (format.kind() != CopyFormat.Kind.TEXT && format.kind() != CopyFormat.Kind.CSV) {
            throw new IllegalArgumentException("only text and CSV rows can be masked");
        }
        this.plan = plan;
        this.format = format;
        this.headerPending = format.header();
    }

    /** Appends the masked form of the CopyData message at {@code in[start, start + length)} to {@code out}. */
    void append(ByteBuf in, int start, int length, ByteBuf out, Set<Detectors.Kind> fired) {
        String row = in.toString(start + 5, length - 5, StandardCharsets.UTF_8);
        if (headerPending) {
            headerPending = false;
            out.writeBytes(in, start, length);
            return;
        }
        String newline = row.endsWith("\r\n") ? "\r\n" : row.endsWith("\n") ? "\n" : null;
        if (newline == null) {
            throw new MaskPlan.MaskingException("a COPY row does not end with a newline");
        }
        String body = row.substring(0, row.length() - newline.length());
        List<String> fields = masked(format.kind() == CopyFormat.Kind.CSV ? csvFields(body) : textFields(body), fired);
        if (fields.size() != plan.columnCount()) {
            throw new MaskPlan.MaskingException("a COPY row has " + fields.size() + " fields where " + plan.columnCount() + " columns were expected");
        }
        StringBuilder sb = new StringBuilder(row.length() + 16);
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                sb.append(format.delimiter());
            }
            sb.append(fields.get(i));
        }
        byte[] bytes = sb.append(newline).toString().getBytes(StandardCharsets.UTF_8);
        out.writeByte('d').writeInt(bytes.length + 4).writeBytes(bytes);
    }

    /** A field as read: its raw text in the row and whether it is NULL. */
    private record Field(String raw, boolean isNull, String value) {
    }

    private List<String> masked(List<Field> fields, Set<Detectors.Kind> fired) {
        List<String> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            if (f.isNull() || i >= plan.columnCount() || !plan.touches(i)) {
                out.add(f.raw());
                continue;
            }
            String masked = plan.maskText(i, f.value(), fired);
            out.add(masked == null ? format.nullString() : format.kind() == CopyFormat.Kind.CSV ? csvQuote(masked) : textEscape(masked));
        }
        return out;
    }

    // ---- text format -------------------------------------------------------------------------------------

    private List<Field> textFields(String body) {
        List<Field> fields = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= body.length(); i++) {
            if (i == body.length() || body.charAt(i) == format.delimiter()) {
                String raw = body.substring(start, i);
                boolean isNull = raw.equals(format.nullString());
                fields.add(new Field(raw, isNull, isNull ? null : textUnescape(raw)));
                start = i + 1;
            } else if (body.charAt(i) == '\\') {
                i++; // an escaped character, possibly the delimiter, belongs to this field
            }
        }
        return fields;
    }

    static String textUnescape(String raw) {
        if (raw.indexOf('\\') < 0) {
            return raw;
        }
        StringBuilder sb = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '\\' || i + 1 == raw.length()) {
                sb.append(c);
                continue;
            }
            char n = raw.charAt(++i);
            switch (n) {
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'v' -> sb.append('\u000b');
                case 'x' -> {
                    int end = i + 1;
                    while (end < raw.length() && end < i + 3 && Character.digit(raw.charAt(end), 16) >= 0) {
                        end++;
                    }
                    if (end == i + 1) {
                        sb.append('x');
                    } else {
                        sb.append((char) Integer.parseInt(raw.substring(i + 1, end), 16));
                        i = end - 1;
                    }
                }
                default -> {
                    if (n >= '0' && n <= '7') {
                        int end = i;
                        while (end < raw.length() && end < i + 3 && raw.charAt(end) >= '0' && raw.charAt(end) <= '7') {
                            end++;
                        }
                        sb.append((char) Integer.parseInt(raw.substring(i, end), 8));
                        i = end - 1;
                    } else {
                        sb.append(n);
                    }
                }
            }
        }
        return sb.toString();
    }

    private String textEscape(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 4);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == format.delimiter()) {
                        sb.append('\\');
                    }
                    sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    // ---- CSV ---------------------------------------------------------------------------------------------

    private List<Field> csvFields(String body) {
        List<Field> fields = new ArrayList<>();
        char quote = format.quote();
        char escape = format.escape();
        int i = 0;
        while (true) {
            int start = i;
            if (i < body.length() && body.charAt(i) == quote) {
                StringBuilder value = new StringBuilder();
                i++;
                while (true) {
                    if (i >= body.length()) {
                        throw new MaskPlan.MaskingException("a CSV row of the COPY has an unterminated quoted field");
                    }
                    char c = body.charAt(i);
                    if (c == escape && i + 1 < body.length() && (body.charAt(i + 1) == quote || body.charAt(i + 1) == escape)
                            && (escape != quote || body.charAt(i + 1) == quote)) {
                        value.append(body.charAt(i + 1));
                        i += 2;
                    } else if (c == quote) {
                        i++;
                        break;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
                fields.add(new Field(body.substring(start, i), false, value.toString()));
            } else {
                while (i < body.length() && body.charAt(i) != format.delimiter()) {
                    i++;
                }
                String raw = body.substring(start, i);
                boolean isNull = raw.equals(format.nullString());
                fields.add(new Field(raw, isNull, raw));
            }
            if (i >= body.length()) {
                return fields;
            }
            if (body.charAt(i) != format.delimiter()) {
                throw new MaskPlan.MaskingException("a CSV row of the COPY has text after a closing quote");
            }
            i++;
        }
    }

    private String csvQuote(String value) {
        String q = String.valueOf(format.quote());
        String e = String.valueOf(format.escape());
        String escaped = format.escape() == format.quote() ? value.replace(q, q + q) : value.replace(e, e + e).replace(q, e + q);
        return q + escaped + q;
    }
}
