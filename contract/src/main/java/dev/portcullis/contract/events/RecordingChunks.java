package dev.portcullis.contract.events;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;

/**
 * How recordings are laid out in the object store. A chunk is a run of one session's events in seq order, gzip'd
 * JSON Lines; each line is one event's canonical JSON ({@link CanonicalJson}), so hashing a line reproduces its chain
 * link.
 *
 * <ul>
 *   <li>Since V5: one object per consumer batch, {@code recordings/<yyyy>/<mm>/<dd>/<random>.jsonl.gz}, in which each
 *       session's run is a gzip member of its own ({@link ObjectWriter}). The whole object is a valid multi-member
 *       .jsonl.gz; a reader fetches one run by its byte range ({@code session_chunks}).</li>
 *   <li>Before V5: one object per chunk, {@code recordings/<yyyy>/<mm>/<session-id>/<first-seq>.jsonl.gz} (the month
 *       of the session's start), read whole.</li>
 * </ul>
 */
public final class RecordingChunks {
    public static final String ROOT = "recordings/";
    /** The dead-letter store of the recorder: events it could not store, kept as received. */
    public static final String PARKED = "parked/";
    private static final String SUFFIX = ".jsonl.gz";

    private RecordingChunks() {
    }

    /** {@code recordings/<yyyy>/<mm>/<session-id>/}: every object of a session stored before V5 starts with it. */
    public static String sessionPrefix(UUID sessionId, Instant sessionStart) {
        ZonedDateTime start = sessionStart.atZone(ZoneOffset.UTC);
        return String.format("%s%04d/%02d/%s/", ROOT, start.getYear(), start.getMonthValue(), sessionId);
    }

    /** A chunk object of the layout before V5. */
    public static String chunkKey(String sessionPrefix, long firstSeq) {
        return sessionPrefix + firstSeq + SUFFIX;
    }

    /** A new object of recordings ({@code recordings/...}) or of parked events ({@code parked/...}), named at random. */
    public static String objectKey(String root, Instant day) {
        ZonedDateTime d = day.atZone(ZoneOffset.UTC);
        return String.format("%s%04d/%02d/%02d/%s%s", root, d.getYear(), d.getMonthValue(), d.getDayOfMonth(),
                UUID.randomUUID(), SUFFIX);
    }

    /** One chunk as a whole object: a single gzip member. */
    public static byte[] encode(List<byte[]> lines) {
        ObjectWriter writer = new ObjectWriter();
        writer.add(lines);
        return writer.toByteArray();
    }

    /**
     * The lines of a chunk (or of a whole multi-member object). Decompression stops at {@code maxBytes}, so a hostile
     * object cannot exhaust memory.
     *
     * @throws IllegalArgumentException when the bytes are not gzip or inflate beyond {@code maxBytes}
     */
    public static List<byte[]> decode(byte[] gzipped, long maxBytes) {
        List<byte[]> lines = new ArrayList<>();
        // GZIPInputStream reads concatenated members one after the other
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped), 8192)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(512);
            byte[] buffer = new byte[8192];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    throw new IllegalArgumentException("the chunk inflates to more than " + maxBytes + " bytes");
                }
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        line.write(buffer, start, i - start);
                        lines.add(line.toByteArray());
                        line.reset();
                        start = i + 1;
                    }
                }
                line.write(buffer, start, n - start);
            }
            if (line.size() > 0) {
                lines.add(line.toByteArray()); // a last line without its newline is still read, so verify can judge it
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("the chunk is not valid gzip: " + e.getMessage());
        }
        return lines;
    }

    /** Where a chunk's gzip member lies in its object. */
    public record Member(long offset, int length) {
    }

    /**
     * Builds one object of many gzip members, each a run of lines (RFC 1952: a header, raw deflate, CRC-32 and the
     * length). One deflater serves every member, at {@link Deflater#BEST_SPEED}: JSON of one session compresses well
     * even so, and the recorder's CPU is the bottleneck, not S3's bytes.
     */
    public static final class ObjectWriter {
        private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};
        private static final byte[] NEWLINE = {'\n'};

        private final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        private final Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
        private final CRC32 crc = new CRC32();
        private final byte[] buffer = new byte[64 * 1024];

        /** Appends the lines, each followed by a line break, as one member. */
        public Member add(List<byte[]> lines) {
            int offset = out.size();
            out.writeBytes(HEADER);
            deflater.reset();
            crc.reset();
            long inflated = 0;
            for (byte[] line : lines) {
                deflate(line, 0, line.length);
                deflate(NEWLINE, 0, 1);
                inflated += line.length + 1;
            }
            deflater.finish();
            while (!deflater.finished()) {
                drain();
            }
            writeIntLe((int) crc.getValue());
            writeIntLe((int) inflated); // ISIZE: the length modulo 2^32
            return new Member(offset, out.size() - offset);
        }

        private void deflate(byte[] bytes, int from, int length) {
            crc.update(bytes, from, length);
            deflater.setInput(bytes, from, length);
            while (!deflater.needsInput()) {
                drain();
            }
        }

        private void drain() {
            int n = deflater.deflate(buffer, 0, buffer.length, Deflater.NO_FLUSH);
            out.write(buffer, 0, n);
        }

        private void writeIntLe(int v) {
            out.write(v);
            out.write(v >>> 8);
            out.write(v >>> 16);
            out.write(v >>> 24);
        }

        public int size() {
            return out.size();
        }

        /** The object; the writer takes no more members after this. */
        public byte[] toByteArray() {
            deflater.end();
            return out.toByteArray();
        }
    }
}
