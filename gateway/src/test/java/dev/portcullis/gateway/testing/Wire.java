package dev.portcullis.gateway.testing;

import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Protocol v3 byte streams as libpq (pgbench, psql) and PostgreSQL 15 write them: the input of the benchmarks and
 * of the relay's state-machine tests. Written independently of the gateway's own codec, so a test cannot agree with a
 * bug in it.
 */
public final class Wire {
    /** The gateway's default {@code portcullis.postgres.max-message-bytes}. */
    public static final int MAX_MESSAGE_BYTES = 67_108_864;
    /** What the gateway reads with: the default allocator of its Netty channels, pooled and direct. */
    public static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    public static final int INT4 = 23;
    public static final int INT8 = 20;
    public static final int TEXT = 25;

    /** One column of a RowDescription. */
    public record Field(String name, int tableOid, int attnum, int typeOid, int typeSize) {
    }

    private Wire() {
    }

    /** Messages appended one after the other, as they travel in one direction of a connection. */
    public static final class Stream {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int messages;

        public int messages() {
            return messages;
        }

        public byte[] bytes() {
            return out.toByteArray();
        }

        public int size() {
            return out.size();
        }

        private Stream message(char type, byte[] body) {
            out.write(type);
            out.writeBytes(ByteBuffer.allocate(4).putInt(body.length + 4).array());
            out.writeBytes(body);
            messages++;
            return this;
        }

        // ---- backend ----

        public Stream bindComplete() {
            return message('2', new byte[0]);
        }

        public Stream rowDescription(Field... fields) {
            Body b = new Body().int16(fields.length);
            for (Field f : fields) {
                b.cstring(f.name()).int32(f.tableOid()).int16(f.attnum()).int32(f.typeOid()).int16(f.typeSize()).int32(-1).int16(0);
            }
            return message('T', b.bytes());
        }

        /** A DataRow in text format; a null value is SQL NULL. */
        public Stream dataRow(String... values) {
            Body b = new Body().int16(values.length);
            for (String v : values) {
                if (v == null) {
                    b.int32(-1);
                } else {
                    byte[] utf8 = v.getBytes(StandardCharsets.UTF_8);
                    b.int32(utf8.length).raw(utf8);
                }
            }
            return message('D', b.bytes());
        }

        public Stream commandComplete(String tag) {
            return message('C', new Body().cstring(tag).bytes());
        }

        public Stream readyForQuery(char status) {
            return message('Z', new byte[] {(byte) status});
        }

        public Stream parseComplete() {
            return message('1', new byte[0]);
        }

        public Stream noData() {
            return message('n', new byte[0]);
        }

        public Stream portalSuspended() {
            return message('s', new byte[0]);
        }

        public Stream parameterDescription(int... types) {
            Body b = new Body().int16(types.length);
            for (int t : types) {
                b.int32(t);
            }
            return message('t', b.bytes());
        }

        public Stream closeComplete() {
            return message('3', new byte[0]);
        }

        /** CopyOutResponse in text format, every column text. */
        public Stream copyOutResponse(int columns) {
            Body b = new Body().raw(new byte[] {0}).int16(columns);
            for (int i = 0; i < columns; i++) {
                b.int16(0);
            }
            return message('H', b.bytes());
        }

        public Stream copyData(String row) {
            return message('d', row.getBytes(StandardCharsets.UTF_8));
        }

        public Stream copyDone() {
            return message('c', new byte[0]);
        }

        public Stream notification(int pid, String channel, String payload) {
            return message('A', new Body().int32(pid).cstring(channel).cstring(payload).bytes());
        }

        /** Everything of another stream, after this one's. */
        public Stream append(Stream other) {
            out.writeBytes(other.bytes());
            messages += other.messages;
            return this;
        }

        public Stream errorResponse(String sqlState, String text) {
            return message('E', new Body().raw(new byte[] {'S'}).cstring("ERROR").raw(new byte[] {'C'}).cstring(sqlState)
                    .raw(new byte[] {'M'}).cstring(text).raw(new byte[] {0}).bytes());
        }

        // ---- frontend ----

        public Stream parse(String statement, String sql) {
            return message('P', new Body().cstring(statement).cstring(sql).int16(0).bytes());
        }

        public Stream describeStatement(String statement) {
            return message('D', new Body().raw(new byte[] {'S'}).cstring(statement).bytes());
        }

        public Stream query(String sql) {
            return message('Q', new Body().cstring(sql).bytes());
        }

        /** Bind as libpq's PQsendQueryPrepared writes it: no parameter format codes (all text), one result format (text). */
        public Stream bind(String portal, String statement, String... textParams) {
            Body b = new Body().cstring(portal).cstring(statement).int16(0).int16(textParams.length);
            for (String p : textParams) {
                byte[] utf8 = p.getBytes(StandardCharsets.UTF_8);
                b.int32(utf8.length).raw(utf8);
            }
            return message('B', b.int16(1).int16(0).bytes());
        }

        public Stream describePortal(String portal) {
            return message('D', new Body().raw(new byte[] {'P'}).cstring(portal).bytes());
        }

        public Stream execute(String portal, int maxRows) {
            return message('E', new Body().cstring(portal).int32(maxRows).bytes());
        }

        public Stream sync() {
            return message('S', new byte[0]);
        }
    }

    private static final class Body {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Body int16(int v) {
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Body int32(int v) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
            return this;
        }

        Body cstring(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Body raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** The bytes in a pooled direct buffer: the source of {@link #read}s. */
    public static ByteBuf direct(byte[] bytes) {
        return ALLOC.directBuffer(bytes.length).writeBytes(bytes);
    }

    /**
     * A socket read of {@code length} bytes of {@code stream}: a buffer of its own, pooled and direct, filled as the
     * transport fills one per read. Never a retained duplicate or slice of the stream: a pooled derived buffer has a
     * reference count of its own, so ByteToMessageDecoder would take it for its own cumulation, write the next read
     * into it and compact it, changing the stream under the next invocation. The decoder releases the read.
     */
    public static ByteBuf read(ByteBuf stream, int from, int length) {
        return ALLOC.directBuffer(length).writeBytes(stream, from, length);
    }

    public static ByteBuf read(ByteBuf stream) {
        return read(stream, stream.readerIndex(), stream.readableBytes());
    }

    /** The values of the DataRow at {@code buf[pos...]}, text format (for checks). */
    public static List<String> dataRowValues(ByteBuf buf, int pos) {
        if (buf.getByte(pos) != 'D') {
            throw new IllegalStateException("not a DataRow: " + (char) buf.getByte(pos));
        }
        int end = pos + 1 + buf.getInt(pos + 1);
        int n = buf.getUnsignedShort(pos + 5);
        List<String> values = new ArrayList<>(n);
        int p = pos + 7;
        for (int i = 0; i < n; i++) {
            int len = buf.getInt(p);
            p += 4;
            values.add(len < 0 ? null : buf.toString(p, len, StandardCharsets.UTF_8));
            p += Math.max(len, 0);
        }
        if (p != end) {
            throw new IllegalStateException("the DataRow's length says " + (end - pos) + " bytes, its values take " + (p - pos));
        }
        return values;
    }

    /** Fails with {@code what} unless the condition holds: a benchmark that measures the wrong thing must not run. */
    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("benchmark setup check failed: " + what);
        }
    }
}
