package dev.portcullis.gateway.protocol.kubernetes;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The name/value header blocks of SPDY/3.1 (SYN_STREAM, SYN_REPLY, HEADERS), compressed with zlib and the protocol's
 * dictionary. One compression context runs through all the blocks a peer sends on a connection, so whoever drops or
 * adds a block must compress every later one again: the gateway reads each direction's blocks with an {@link Reader}
 * and writes them on with its own {@link Writer}. Every length is checked against what is left before anything is
 * allocated, and a block is never inflated beyond {@value #MAX_BLOCK_BYTES} bytes.
 */
final class SpdyHeaderBlock {
    /** Largest decompressed header block read; kubectl's are under 100 bytes. */
    static final int MAX_BLOCK_BYTES = 16384;
    /** The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): 65 length-prefixed words, then text. */
    static final byte[] DICTIONARY = dictionary();

    /** One header; a value may hold several values separated by NUL. Names and values keep their bytes (ISO-8859-1). */
    record Header(String name, String value) {
    }

    /** The peer sent something that is not SPDY/3.1 as the gateway reads it; the message says what. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private SpdyHeaderBlock() {
    }

    /** The value of header {@code name} (SPDY names are lower case; compared without case), or null. */
    static String value(List<Header> headers, String name) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /** Decompresses one direction's header blocks, in order. Call {@link #close} when the connection ends. */
    static final class Reader {
        private final Inflater inflater = new Inflater();
        private final byte[] out = new byte[MAX_BLOCK_BYTES];

        List<Header> read(Buffer compressed) throws Malformed {
            inflater.setInput(compressed.getBytes());
            int length = 0;
            try {
                while (true) {
                    int n = inflater.inflate(out, length, out.length - length);
                    length += n;
                    if (length == out.length) {
                        // full: whether more would come is not worth finding out
                        throw new Malformed("a SPDY header block inflates to " + MAX_BLOCK_BYTES + " bytes or more");
                    } else if (inflater.needsDictionary()) {
                        inflater.setDictionary(DICTIONARY);
                    } else if (inflater.needsInput() || inflater.finished()) {
                        break;
                    } else if (n == 0) {
                        throw new Malformed("a SPDY header block does not inflate");
                    }
                }
            } catch (DataFormatException | IllegalArgumentException e) {
                throw new Malformed("a SPDY header block is not valid zlib data");
            }
            return parse(Buffer.buffer().appendBytes(out, 0, length));
        }

        void close() {
            inflater.end();
        }
    }

    /** Compresses the header blocks the gateway sends one peer, in order. Call {@link #close} when the connection ends. */
    static final class Writer {
        private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        private final byte[] chunk = new byte[4096];

        Writer() {
            deflater.setDictionary(DICTIONARY);
        }

        Buffer write(List<Header> headers) {
            deflater.setInput(encode(headers).getBytes());
            Buffer out = Buffer.buffer();
            int n;
            do {
                n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
                out.appendBytes(chunk, 0, n);
            } while (n == chunk.length);
            return out;
        }

        void close() {
            deflater.end();
        }
    }

    /** The uncompressed block: the number of pairs, then each name and value with its 32-bit length. */
    static List<Header> parse(Buffer block) throws Malformed {
        if (block.length() < 4) {
            throw new Malformed("a SPDY header block is shorter than its count of headers");
        }
        long count = block.getUnsignedInt(0);
        // each header takes at least its two lengths: a count beyond that is a lie, found before allocating for it
        if (count > (block.length() - 4) / 8) {
            throw new Malformed("a SPDY header block claims " + count + " headers in " + block.length() + " bytes");
        }
        List<Header> headers = new ArrayList<>((int) count);
        int pos = 4;
        for (long i = 0; i < count; i++) {
            String name = string(block, pos);
            pos += 4 + name.length();
            String value = string(block, pos);
            pos += 4 + value.length();
            if (name.isEmpty()) {
                throw new Malformed("a SPDY header has an empty name");
            }
            headers.add(new Header(name, value));
        }
        if (pos != block.length()) {
            throw new Malformed("a SPDY header block has " + (block.length() - pos) + " bytes after its last header");
        }
        return headers;
    }

    private static String string(Buffer block, int pos) throws Malformed {
        if (pos + 4 > block.length()) {
            throw new Malformed("a SPDY header block ends inside a length");
        }
        long length = block.getUnsignedInt(pos);
        if (length > block.length() - pos - 4) {
            throw new Malformed("a SPDY header of " + length + " bytes is longer than its block");
        }
        return block.getString(pos + 4, pos + 4 + (int) length, StandardCharsets.ISO_8859_1.name());
    }

    static Buffer encode(List<Header> headers) {
        Buffer out = Buffer.buffer().appendInt(headers.size());
        for (Header h : headers) {
            byte[] name = h.name().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.ISO_8859_1);
            byte[] value = h.value().getBytes(StandardCharsets.ISO_8859_1);
            out.appendInt(name.length).appendBytes(name).appendInt(value.length).appendBytes(value);
        }
        return out;
    }

    private static byte[] dictionary() {
        String[] words = {"options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base",
            "content-encoding", "content-language", "content-length", "content-location", "content-md5", "content-range",
            "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
            "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate",
            "proxy-authorization", "range", "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
            "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1",
            "url", "public", "set-cookie", "keep-alive", "origin"};
        String tail = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
                + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
                + "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
                + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
                + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
                + "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String w : words) {
            byte[] b = w.getBytes(StandardCharsets.US_ASCII);
            out.writeBytes(new byte[] {0, 0, 0, (byte) b.length});
            out.writeBytes(b);
        }
        out.writeBytes(tail.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
