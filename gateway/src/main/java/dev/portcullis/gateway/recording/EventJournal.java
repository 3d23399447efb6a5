package dev.portcullis.gateway.recording;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The gateway's write-ahead log of session events: every event is appended here, and forced to disk, before it
 * is sent to Kafka, and stays until Kafka has acknowledged it. So events survive Kafka being down and the
 * gateway restarting, and are sent again in their order. Bounded: {@link #full()} says when no more fits.
 *
 * <p>Segment files {@code <first index>.seg}, each record {@code length(4) crc32c(4) keyLength(2) key value}. A
 * torn record at the end (a crash during a write) ends the journal there. One gateway per directory (a lock
 * file). Not thread-safe: one thread owns it.
 */
final class EventJournal implements AutoCloseable {
    /** An event as journaled: its position, its Kafka key and its bytes. */
    /** A record and its index; {@code events}: how many events its value holds, -1 when not known (read back from disk). */
    record Entry(long index, String key, byte[] value, int events) {
        Entry(long index, String key, byte[] value) {
            this(index, key, value, -1);
        }
    }

    private static final int HEADER = 8;

    private record Segment(long firstIndex, Path path, FileChannel channel, long[] lastIndex, long[] bytes) {
    }

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();
    private long nextIndex;
    private long totalBytes;

    EventJournal(Path dir, long maxBytes, long segmentBytes) throws IOException {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        Files.createDirectories(dir);
        lockChannel = FileChannel.open(dir.resolve("journal.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock acquired;
        try {
            acquired = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            acquired = null; // held by this very process
        }
        lock = acquired;
        if (lock == null) {
            lockChannel.close();
            throw new IOException("the event journal " + dir + " is in use by another gateway; give each gateway its own portcullis.recording.journal-dir");
        }
        try {
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(p -> SEGMENT_NAME.matcher(p.getFileName().toString()).matches()).sorted().toList();
            }
            for (Path p : files) {
                long first = Long.parseLong(p.getFileName().toString().replace(".seg", ""));
                FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
                Segment seg = new Segment(first, p, ch, new long[] {first - 1}, new long[] {0});
                segments.add(seg);
                long valid = scan(seg);
                ch.truncate(valid);
                seg.bytes()[0] = valid;
                totalBytes += valid;
                nextIndex = seg.lastIndex()[0] + 1;
            }
        } catch (IOException | RuntimeException e) {
            close(); // the lock too: a gateway restarted in this JVM must be able to open it again
            throw e;
        }
    }

    /** A segment's file name: the index of its first entry, zero-padded so the names sort in order. */
    private static final java.util.regex.Pattern SEGMENT_NAME = java.util.regex.Pattern.compile("[0-9]{20}\\.seg");

    /** Counts the whole records of a segment; returns where the valid part ends. */
    private static long scan(Segment seg) throws IOException {
        long pos = 0;
        long size = seg.channel().size();
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        while (pos + HEADER <= size) {
            header.clear();
            seg.channel().read(header, pos);
            int length = header.getInt(0);
            if (length <= 2 || pos + HEADER + length > size) {
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            seg.channel().read(payload, pos + HEADER);
            CRC32C crc = new CRC32C();
            crc.update(payload.flip());
            if ((int) crc.getValue() != header.getInt(4)) {
                break;
            }
            pos += HEADER + length;
            seg.lastIndex()[0]++;
        }
        return pos;
    }

    /** Index of the first entry not yet acknowledged (the oldest kept), or {@link #nextIndex()} when empty. */
    long firstIndex() {
        return segments.isEmpty() ? nextIndex : segments.peekFirst().firstIndex();
    }

    long nextIndex() {
        return nextIndex;
    }

    long bytes() {
        return totalBytes;
    }

    boolean full() {
        return totalBytes >= maxBytes;
    }

    /** Entries appended since the last {@link #sync}, encoded, in order; written and forced there in one go. */
    private ByteBuffer pending = ByteBuffer.allocate(64 * 1024);
    private long pendingFirstIndex = -1;

    /** Appends an entry in memory; it is written and forced to disk by the next {@link #sync}. Returns its index. */
    long append(String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int length = 2 + k.length + value.length;
        if (pending.remaining() < HEADER + length) {
            ByteBuffer grown = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + HEADER + length));
            grown.put(pending.flip());
            pending = grown;
        }
        int start = pending.position();
        pending.putInt(length).putInt(0).putShort((short) k.length).put(k).put(value);
        CRC32C crc = new CRC32C();
        crc.update(pending.array(), start + HEADER, length);
        pending.putInt(start + 4, (int) crc.getValue());
        if (pendingFirstIndex < 0) {
            pendingFirstIndex = nextIndex;
        }
        totalBytes += HEADER + length;
        return nextIndex++;
    }

    /** Index after the last entry forced to disk: entries before it survive a crash and may be sent. */
    long syncedIndex() {
        return pendingFirstIndex < 0 ? nextIndex : pendingFirstIndex;
    }

    private Segment newSegment(long first) throws IOException {
        Path p = dir.resolve(String.format("%020d.seg", first));
        FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Segment seg = new Segment(first, p, ch, new long[] {first - 1}, new long[] {0});
        segments.add(seg);
        return seg;
    }

    /** Writes what was appended since the last call and forces it to disk: one write and one fsync for the lot. */
    void sync() {
        if (pendingFirstIndex < 0) {
            return;
        }
        try {
            Segment seg = segments.peekLast();
            if (seg == null || seg.bytes()[0] >= segmentBytes) {
                seg = newSegment(pendingFirstIndex);
            }
            pending.flip();
            int written = pending.remaining();
            long at = seg.bytes()[0];
            while (pending.hasRemaining()) {
                at += seg.channel().write(pending, at);
            }
            seg.channel().force(false);
            seg.bytes()[0] += written;
            seg.lastIndex()[0] = nextIndex - 1;
            pending.clear();
            pendingFirstIndex = -1;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the event journal in " + dir, e);
        }
    }

    /** Where the last read stopped, so reading on from there does not rescan the segment. */
    private Segment cursorSegment;
    private long cursorPos;
    private long cursorIndex = -1;

    /** Reads up to {@code max} entries from {@code from} on (inclusive). */
    List<Entry> read(long from, int max) {
        List<Entry> out = new ArrayList<>();
        try {
            for (Segment seg : segments) {
                if (seg.lastIndex()[0] < from) {
                    continue;
                }
                boolean resume = seg == cursorSegment && cursorIndex == from;
                long index = resume ? cursorIndex : seg.firstIndex();
                long pos = resume ? cursorPos : 0;
                ByteBuffer header = ByteBuffer.allocate(HEADER);
                while (pos < seg.bytes()[0] && out.size() < max) {
                    header.clear();
                    seg.channel().read(header, pos);
                    int length = header.getInt(0);
                    if (index >= from) {
                        ByteBuffer payload = ByteBuffer.allocate(length);
                        seg.channel().read(payload, pos + HEADER);
                        payload.flip();
                        byte[] k = new byte[payload.getShort()];
                        payload.get(k);
                        byte[] v = new byte[payload.remaining()];
                        payload.get(v);
                        out.add(new Entry(index, new String(k, StandardCharsets.UTF_8), v));
                    }
                    pos += HEADER + length;
                    index++;
                }
                cursorSegment = seg;
                cursorPos = pos;
                cursorIndex = index;
                if (out.size() >= max) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the event journal in " + dir, e);
        }
        return out;
    }

    /** Everything before {@code index} was acknowledged: the segments wholly before it are deleted. */
    void acknowledgedBefore(long index) {
        Segment first;
        while ((first = segments.peekFirst()) != null && first.lastIndex()[0] < index) {
            segments.pollFirst();
            totalBytes -= first.bytes()[0];
            if (cursorSegment == first) {
                cursorSegment = null;
                cursorIndex = -1;
            }
            try {
                first.channel().close();
                Files.deleteIfExists(first.path());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + first.path(), e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        for (Segment s : segments) {
            s.channel().close();
        }
        lock.release();
        lockChannel.close();
    }
}
