package dev.portcullis.gateway.protocol.postgres.sql;

/**
 * How a {@code COPY ... TO STDOUT} writes its rows, from its options: what masking needs to find the fields of
 * each row. {@link #UNREADABLE} when an option could not be read (the rows are then not parsed, and a result
 * that needs masking is refused).
 *
 * @param nullString the text of a NULL field
 * @param header     a CSV header line comes first
 */
public record CopyFormat(Kind kind, char delimiter, String nullString, char quote, char escape, boolean header) {

    public enum Kind { TEXT, CSV, BINARY, UNREADABLE }

    public static final CopyFormat TEXT = new CopyFormat(Kind.TEXT, '\t', "\\N", '"', '"', false);
    public static final CopyFormat CSV = new CopyFormat(Kind.CSV, ',', "", '"', '"', false);
    public static final CopyFormat BINARY = new CopyFormat(Kind.BINARY, '\t', "", '"', '"', false);
    public static final CopyFormat UNREADABLE = new CopyFormat(Kind.UNREADABLE, '\t', "", '"', '"', false);

    CopyFormat withDelimiter(char c) {
        return new CopyFormat(kind, c, nullString, quote, escape, header);
    }

    CopyFormat withNull(String s) {
        return new CopyFormat(kind, delimiter, s, quote, escape, header);
    }

    CopyFormat withQuote(char c) {
        return new CopyFormat(kind, delimiter, nullString, c, escape == quote ? c : escape, header);
    }

    CopyFormat withEscape(char c) {
        return new CopyFormat(kind, delimiter, nullString, quote, c, header);
    }

    CopyFormat withHeader(boolean h) {
        return new CopyFormat(kind, delimiter, nullString, quote, escape, h);
    }
}
