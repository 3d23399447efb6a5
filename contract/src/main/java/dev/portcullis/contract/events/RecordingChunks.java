package dev.portcullis.contract.events;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * How recordings are laid out in the object store: a session's events in order, as gzip'd JSONL chunks under
 * {@code recordings/<yyyy>/<mm>/<session-id>/<first-seq>.jsonl.gz}. Each line is one event's canonical JSON
 * ({@link CanonicalJson}), so hashing a line reproduces its chain link. The month is the session's start.
 */
public final class RecordingChunks {
    public static final String ROOT = "recordings/";
    private static final String SUFFIX = ".jsonl.gz";

    private RecordingChunks() {
    }

    /** {@code recordings/<yyyy>/<mm>/<session-id>/}: every object of the session starts with it. */
    public static String sessionPrefix(UUID sessionId, Instant sessionStart) {
        ZonedDateTime start = sessionStart.atZone(ZoneOffset.UTC);
        return String.format("%s%04d/%02d/%s/", ROOT, start.getYear(), start.getMonthValue(), sessionId);
    }

    public static String chunkKey(String sessionPrefix, long firstSeq) {
        return sessionPrefix + firstSeq + SUFFIX;
    }

    /** @param canonicalEvents each one event's canonical JSON, in seq order */
    public static byte[] encode(List<byte[]> canonicalEvents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out, 8192)) {
            for (byte[] event : canonicalEvents) {
                gzip.write(event);
                gzip.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * The lines of a chunk. Decompression stops at {@code maxBytes}, so a hostile object cannot exhaust memory.
     *
     * @throws IllegalArgumentException when the object is not gzip or inflates beyond {@code maxBytes}
     */
    public static List<byte[]> decode(byte[] gzipped, long maxBytes) {
        List<byte[]> lines = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped), 8192)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(512);
            byte[] buffer = new byte[8192];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    throw new IllegalArgumentException("the chunk inflates to more than " + maxBytes + " bytes");
                }
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        lines.add(line.toByteArray());
                        line.reset();
                    } else {
                        line.write(buffer[i]);
                    }
                }
            }
            if (line.size() > 0) {
                lines.add(line.toByteArray()); // a last line without its newline is still read, so verify can judge it
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("the chunk is not valid gzip: " + e.getMessage());
        }
        return lines;
    }
}
