package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.session.RequestResult;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * An allowed sftp subsystem, one file operation at a time. The client's SFTP requests pass on to the target's own
 * sftp-server one packet at a time, and every request that lists, reads or changes something is decided first: an
 * open with its access, an opendir (readdir), remove, rename, mkdir, rmdir, setstat, symlink and link, with their paths.
 * A denied one never reaches the target: the client gets {@code SSH_FX_PERMISSION_DENIED} with the reason, the reason
 * also goes to the channel's stderr (which scp and sftp print), and the session goes on. A handle's reads and writes
 * pass only as its open was decided (a handle opened for reading cannot write). The target's answers are read on their
 * way back to learn the handles and count the bytes: each decided operation gets its result, a file's at its close with
 * the bytes read and written.
 *
 * <p>Why decode in the relay rather than end SFTP in the gateway (an sftp server of its own over an SFTP client
 * file system): the target's sftp-server keeps its own semantics (home directory, permissions, links, extensions), the
 * client's pipelined requests go on as they come, so a copy runs at the target's speed and not one round trip per
 * chunk, and the memory is bounded by construction: one packet per direction (at most {@value SftpPacket#MAX_LENGTH}
 * bytes, checked before it is allocated), at most {@value #MAX_PENDING} requests awaiting an answer (more wait) and
 * {@value #MAX_HANDLES} open handles.
 */
final class SftpFilter {
    private static final Logger LOG = Logger.getLogger(SftpFilter.class);
    static final int MAX_PENDING = 1024;
    static final int MAX_HANDLES = 1024;
    private static final long WAIT_S = 60;
    private static final int FXF_READ = 0x01;
    private static final int FXF_WRITE = 0x02;
    private static final int FXF_KNOWN = 0x3f;
    /** Extensions that only look (or flush): they pass undecided, like stat and realpath. */
    private static final Set<String> LOOKING_EXTENSIONS = Set.of("statvfs@openssh.com", "fstatvfs@openssh.com", "expand-path@openssh.com",
            "limits@openssh.com", "home-directory", "users-groups-by-id@openssh.com", "fsync@openssh.com");

    /** Decides one operation (ChannelRelay's decision: held ones wait for their approvers); null when it could not. */
    interface Decider {
        Verdict decide(SshRequest request);
    }

    private enum Kind {
        OPEN, OPENDIR, READ, CLOSE, DECIDED
    }

    private static final class Handle {
        final String path;
        final long seq;
        final boolean read;
        final boolean write;
        final boolean dir;
        final long start;
        final AtomicLong readBytes = new AtomicLong();
        final AtomicLong writtenBytes = new AtomicLong();

        Handle(String path, long seq, boolean read, boolean write, boolean dir, long start) {
            this.path = path;
            this.seq = seq;
            this.read = read;
            this.write = write;
            this.dir = dir;
            this.start = start;
        }
    }

    /** A request passed on and awaiting its answer; {@code key} is a CLOSE's handle, {@code path} an open's. */
    private record Pending(Kind kind, long seq, String path, boolean read, boolean write, Handle handle, String key, long start) {
    }

    private final Decider decider;
    private final ClientConnection connection;
    private final Session session;
    private final OutputStream client;
    private final OutputStream err;
    /** Whole packets only go to the client: the target's answers and the gateway's own denials never interleave. */
    private final Object clientLock = new Object();
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final Semaphore slots = new Semaphore(MAX_PENDING);
    private final Map<String, Handle> handles = new ConcurrentHashMap<>();

    SftpFilter(Decider decider, ClientConnection connection, Session session, OutputStream client, OutputStream err) {
        this.decider = decider;
        this.connection = connection;
        this.session = session;
        this.client = client;
        this.err = err;
    }

    /** The client's requests as the target may read them: the denied ones left out. */
    InputStream requests(InputStream in) {
        return new Requests(in);
    }

    /** Where the target's answers go on their way to the client. */
    OutputStream responses() {
        return new Responses();
    }

    /** The channel closed: a file still open gets its result now, as not completed. */
    void ended() {
        for (Handle h : handles.values()) {
            result(h.seq, false, h.readBytes.get(), h.writtenBytes.get(), null, h.start);
        }
        handles.clear();
    }

    // --- requests, client to target -------------------------------------------------------------------------

    /** True to pass the request on; false when the gateway answered it. */
    private boolean pass(SftpPacket p) throws IOException {
        int type = p.type();
        if (type == SftpPacket.INIT) {
            return true;
        }
        int id = p.id();
        try {
            return switch (type) {
                case SftpPacket.OPEN -> open(p, id);
                case SftpPacket.OPENDIR -> decided(id, Kind.OPENDIR, "readdir", p.path(), null);
                case SftpPacket.READ -> {
                    Handle h = handles.get(p.bytesKey());
                    if (h == null || !h.read || h.dir) {
                        yield refused(id, "this handle was not opened for reading through Portcullis");
                    }
                    yield track(id, new Pending(Kind.READ, 0, null, false, false, h, null, 0));
                }
                case SftpPacket.WRITE -> {
                    Handle h = handles.get(p.bytesKey());
                    p.u64();
                    int bytes = p.skipString();
                    if (h == null || !h.write) {
                        yield refused(id, "this handle was not opened for writing through Portcullis");
                    }
                    h.writtenBytes.addAndGet(bytes);
                    yield true;
                }
                case SftpPacket.READDIR -> {
                    Handle h = handles.get(p.bytesKey());
                    yield h != null && h.dir ? true : refused(id, "this handle was not opened as a directory through Portcullis");
                }
                case SftpPacket.CLOSE -> {
                    String key = p.bytesKey();
                    Handle h = handles.get(key);
                    yield h == null ? true : track(id, new Pending(Kind.CLOSE, 0, null, false, false, h, key, 0));
                }
                case SftpPacket.FSETSTAT -> {
                    Handle h = handles.get(p.bytesKey());
                    yield h == null ? refused(id, "this handle was not opened through Portcullis")
                            : decided(id, Kind.DECIDED, "setstat", h.path, null);
                }
                case SftpPacket.SETSTAT -> decided(id, Kind.DECIDED, "setstat", p.path(), null);
                case SftpPacket.REMOVE -> decided(id, Kind.DECIDED, "remove", p.path(), null);
                case SftpPacket.MKDIR -> decided(id, Kind.DECIDED, "mkdir", p.path(), null);
                case SftpPacket.RMDIR -> decided(id, Kind.DECIDED, "rmdir", p.path(), null);
                case SftpPacket.RENAME -> decided(id, Kind.DECIDED, "rename", p.path(), p.path());
                case SftpPacket.SYMLINK -> decided(id, Kind.DECIDED, "symlink", p.path(), p.path());
                case SftpPacket.LSTAT, SftpPacket.FSTAT, SftpPacket.STAT, SftpPacket.REALPATH, SftpPacket.READLINK -> true;
                case SftpPacket.EXTENDED -> extended(p, id);
                default -> decided(id, Kind.DECIDED, "packet " + type, "", null);
            };
        } catch (SftpPacket.Malformed e) {
            answer(id, SftpPacket.FX_BAD_MESSAGE, "Portcullis could not read this SFTP request: " + e.getMessage());
            return false;
        }
    }

    private boolean open(SftpPacket p, int id) throws SftpPacket.Malformed, IOException {
        String path = p.path();
        int flags = p.u32();
        if (handles.size() >= MAX_HANDLES) {
            return refused(id, "more than " + MAX_HANDLES + " files are open on this channel; close some first");
        }
        boolean read = (flags & FXF_READ) != 0 || (flags & (FXF_READ | FXF_WRITE)) == 0; // neither: the target opens for reading
        boolean write = (flags & FXF_WRITE) != 0;
        List<String> access = new ArrayList<>();
        if (read) {
            access.add("read");
        }
        for (int bit = 1; bit < SftpPacket.OPEN_FLAGS.length; bit++) {
            if ((flags & (1 << bit)) != 0) {
                access.add(SftpPacket.OPEN_FLAGS[bit]);
            }
        }
        if ((flags & ~FXF_KNOWN) != 0) {
            access.add("unknown");
        }
        return decide(id, SshRequest.sftp("open", path, null, List.copyOf(access)), Kind.OPEN, path, read, write);
    }

    private boolean extended(SftpPacket p, int id) throws SftpPacket.Malformed, IOException {
        String name = p.name();
        if (LOOKING_EXTENSIONS.contains(name)) {
            return true;
        }
        return switch (name) {
            case "posix-rename@openssh.com" -> decided(id, Kind.DECIDED, "rename", p.path(), p.path());
            case "hardlink@openssh.com" -> decided(id, Kind.DECIDED, "link", p.path(), p.path());
            case "lsetstat@openssh.com" -> decided(id, Kind.DECIDED, "setstat", p.path(), null);
            case "copy-data" -> {
                Handle from = handles.get(p.bytesKey());
                p.u64();
                p.u64();
                Handle to = handles.get(p.bytesKey());
                yield from != null && from.read && !from.dir && to != null && to.write ? true
                        : refused(id, "copy-data needs a handle opened for reading and one opened for writing through Portcullis");
            }
            default -> decided(id, Kind.DECIDED, "extension " + name, "", null);
        };
    }

    private boolean decided(int id, Kind kind, String operation, String path, String newPath) throws IOException {
        return decide(id, SshRequest.sftp(operation, path, newPath, null), kind, path, false, false);
    }

    private boolean decide(int id, SshRequest r, Kind kind, String path, boolean read, boolean write) throws IOException {
        if (pending.containsKey(id)) {
            answer(id, SftpPacket.FX_BAD_MESSAGE, "Portcullis: request id " + id + " is still in use");
            return false;
        }
        long start = System.nanoTime();
        Verdict v = decider.decide(r);
        if (v instanceof Verdict.Allow) {
            return track(id, new Pending(kind, v.seq(), path, read, write, null, null, start));
        }
        String why = v instanceof Verdict.Deny d ? d.message("this file operation") : "Portcullis could not decide this file operation";
        answer(id, SftpPacket.FX_PERMISSION_DENIED, why);
        say(why);
        return false;
    }

    /** Remembers a request passed on until its answer comes; waits while {@value #MAX_PENDING} are outstanding. */
    private boolean track(int id, Pending p) throws IOException {
        try {
            if (!slots.tryAcquire(WAIT_S, TimeUnit.SECONDS)) {
                throw new IOException("the target answered none of " + MAX_PENDING + " outstanding SFTP requests in " + WAIT_S + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (pending.putIfAbsent(id, p) != null) {
            slots.release();
            answer(id, SftpPacket.FX_BAD_MESSAGE, "Portcullis: request id " + id + " is still in use");
            return false;
        }
        return true;
    }

    private boolean refused(int id, String why) throws IOException {
        answer(id, SftpPacket.FX_PERMISSION_DENIED, "Portcullis: " + why);
        return false;
    }

    private void answer(int id, int code, String message) throws IOException {
        byte[] status = SftpPacket.status(id, code, message);
        synchronized (clientLock) {
            client.write(status);
            client.flush();
        }
    }

    private void say(String line) {
        try {
            err.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException e) {
            // the client is gone
        }
    }

    // --- answers, target to client ---------------------------------------------------------------------------

    private void answered(SftpPacket p) {
        if (p.size() < 9 || p.type() < SftpPacket.STATUS) {
            return; // VERSION, or what no request of ours awaits
        }
        Pending q = pending.remove(p.id());
        if (q == null) {
            return;
        }
        slots.release();
        try {
            int type = p.type();
            int status = type == SftpPacket.STATUS ? p.u32() : SftpPacket.FX_OK;
            switch (q.kind()) {
                case OPEN, OPENDIR -> {
                    if (type == SftpPacket.HANDLE) {
                        handles.put(p.bytesKey(), new Handle(q.path(), q.seq(), q.read(), q.write(), q.kind() == Kind.OPENDIR, q.start()));
                    } else {
                        result(q.seq(), false, 0, 0, status, q.start());
                    }
                }
                case READ -> {
                    if (type == SftpPacket.DATA) {
                        q.handle().readBytes.addAndGet(p.skipString());
                    }
                }
                case CLOSE -> {
                    Handle h = handles.remove(q.key());
                    if (h != null) {
                        result(h.seq, status == SftpPacket.FX_OK, h.readBytes.get(), h.writtenBytes.get(), status, h.start);
                    }
                }
                case DECIDED -> result(q.seq(), status == SftpPacket.FX_OK, 0, 0, status, q.start());
            }
        } catch (SftpPacket.Malformed e) {
            LOG.debugf("session %s: an SFTP answer the gateway could not read: %s", session.id(), e.getMessage());
        }
    }

    /** An operation's result: {@code status} is the target's SSH_FX code, null when the channel closed first. */
    private void result(long seq, boolean ok, long read, long written, Integer status, long start) {
        long durationUs = (System.nanoTime() - start) / 1000;
        Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("status", status);
        details.put("read_bytes", read);
        details.put("written_bytes", written);
        connection.executor().execute(() -> session.result(new RequestResult(seq, ok, read, durationUs, List.of(), Set.of(), details)));
    }

    private final class Requests extends InputStream {
        private final InputStream in;
        private final SftpPacket packet = new SftpPacket();
        private int pos;
        private int limit;

        Requests(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (pos >= limit) {
                try {
                    if (!packet.read(in)) {
                        return -1;
                    }
                } catch (IOException e) {
                    say("Portcullis ended this SFTP channel: " + e.getMessage());
                    throw e;
                }
                pos = 0;
                limit = pass(packet) ? packet.size() : 0;
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(packet.bytes(), pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public int available() {
            return limit - pos;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Assembles the target's answers packet by packet, whatever chunks they come in, and passes each on whole. */
    private final class Responses extends OutputStream {
        private final SftpPacket packet = new SftpPacket();
        private int have;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int want = have < 4 ? 4 - have : packet.size() - have;
                int n = Math.min(want, len);
                packet.put(have, b, off, n);
                have += n;
                off += n;
                len -= n;
                if (have == 4 && packet.size() == 0) {
                    packet.ensure(ByteBuffer.wrap(packet.bytes(), 0, 4).getInt());
                } else if (have >= 4 && have == packet.size()) {
                    packet.startFields();
                    answered(packet);
                    synchronized (clientLock) {
                        client.write(packet.bytes(), 0, packet.size());
                        client.flush();
                    }
                    packet.clear();
                    have = 0;
                }
            }
        }

        @Override
        public void flush() throws IOException {
            synchronized (clientLock) {
                client.flush();
            }
        }

        @Override
        public void close() throws IOException {
            flush(); // the client's stream closes with the channel
        }
    }
}
