package dev.portcullis.gateway.recording;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The event journal's dead-letter segment: records that Kafka refused for a reason retrying cannot fix (too large for
 * the broker, corrupt), and events too large to send at all. They are kept here, never dropped, so the journal can
 * move on instead of resending one record forever while every later event waits behind it. Each is forced to disk
 * with the reason; {@link #takeAll} hands them back once the cause is fixed (see
 * {@code portcullis.recording.resend-parked}).
 *
 * <p>File {@code parked.dlq} in the journal's directory, each record
 * {@code length(4) crc32c(4) reasonLength(2) reason keyLength(2) key value}; a torn record at the end is cut off.
 * Not thread-safe: the journal's owner thread uses it.
 */
final class ParkedRecords implements AutoCloseable {
    /** A parked record: its Kafka key and value, and why it was parked. */
    record Parked(String key, byte[] value, String reason) {
    }

    private static final int HEADER = 8;
    private static final int MAX_REASON_CHARS = 1000;

    private final Path file;
    private final FileChannel channel;
    private long count;
    private long size;

    ParkedRecords(Path dir) throws IOException {
        this.file = dir.resolve("parked.dlq");
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        List<Parked> existing = readAll();
        count = existing.size();
        channel.truncate(size);
    }

    /** Records parked and not yet taken back. */
    long count() {
        return count;
    }

    /** Appends a record with its reason and forces it to disk. */
    void park(String key, byte[] value, String reason) {
        byte[] r = truncate(reason).getBytes(StandardCharsets.UTF_8);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int length = 2 + r.length + 2 + k.length + value.length;
        ByteBuffer b = ByteBuffer.allocate(HEADER + length);
        b.putInt(length).putInt(0).putShort((short) r.length).put(r).putShort((short) k.length).put(k).put(value);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), HEADER, length);
        b.putInt(4, (int) crc.getValue());
        b.flip();
        try {
            long at = size;
            while (b.hasRemaining()) {
                at += channel.write(b, at);
            }
            channel.force(false);
            size = at;
            count++;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the parked records in " + file, e);
        }
    }

    /** Every parked record, in the order parked; the segment is then empty. */
    List<Parked> takeAll() {
        try {
            List<Parked> all = readAll();
            channel.truncate(0);
            channel.force(false);
            size = 0;
            count = 0;
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the parked records in " + file, e);
        }
    }

    /** Reads the whole records; sets {@link #size} to where they end. */
    private List<Parked> readAll() throws IOException {
        List<Parked> out = new ArrayList<>();
        long pos = 0;
        long end = channel.size();
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        while (pos + HEADER <= end) {
            header.clear();
            channel.read(header, pos);
            int length = header.getInt(0);
            if (length < 4 || pos + HEADER + length > end) {
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            channel.read(payload, pos + HEADER);
            CRC32C crc = new CRC32C();
            crc.update(payload.array(), 0, length);
            if ((int) crc.getValue() != header.getInt(4)) {
                break;
            }
            payload.flip();
            String reason = string(payload);
            String key = string(payload);
            byte[] value = new byte[payload.remaining()];
            payload.get(value);
            out.add(new Parked(key, value, reason));
            pos += HEADER + length;
        }
        size = pos;
        return out;
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[b.getShort() & 0xffff];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static String truncate(String reason) {
        String r = reason == null ? "unknown" : reason;
        return r.length() > MAX_REASON_CHARS ? r.substring(0, MAX_REASON_CHARS) : r;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
