package dev.portcullis.gateway.protocol.ssh;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The SFTP wire format as OpenSSH speaks it (version 3, draft-ietf-secsh-filexfer-02, plus its extensions): the packet
 * types and status codes, one packet framed by its length (capped before anything is allocated), and a reader of its
 * fields that fails on anything out of bounds.
 */
final class SftpPacket {
    /** OpenSSH's sftp-server and client both refuse a longer packet (SFTP_MAX_MSG_LENGTH); so does the gateway. */
    static final int MAX_LENGTH = 256 * 1024;
    /** The longest path decided (PATH_MAX); a longer one is refused before the policy sees it. */
    static final int MAX_PATH_BYTES = 4096;
    private static final int FIRST_BUFFER = 36 * 1024;

    static final int INIT = 1;
    static final int OPEN = 3;
    static final int CLOSE = 4;
    static final int READ = 5;
    static final int WRITE = 6;
    static final int LSTAT = 7;
    static final int FSTAT = 8;
    static final int SETSTAT = 9;
    static final int FSETSTAT = 10;
    static final int OPENDIR = 11;
    static final int READDIR = 12;
    static final int REMOVE = 13;
    static final int MKDIR = 14;
    static final int RMDIR = 15;
    static final int REALPATH = 16;
    static final int STAT = 17;
    static final int RENAME = 18;
    static final int READLINK = 19;
    static final int SYMLINK = 20;
    static final int EXTENDED = 200;
    static final int STATUS = 101;
    static final int HANDLE = 102;
    static final int DATA = 103;

    static final int FX_OK = 0;
    static final int FX_PERMISSION_DENIED = 3;
    static final int FX_FAILURE = 4;
    static final int FX_BAD_MESSAGE = 5;

    /** SSH_FXF_* open flags, by the name the policy reads. */
    static final String[] OPEN_FLAGS = {"read", "write", "append", "create", "truncate", "exclusive"};

    /** A packet the gateway cannot read: answered with SSH_FX_BAD_MESSAGE, never passed on. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private byte[] buf = new byte[FIRST_BUFFER];
    private int length;
    private int pos;

    /** The whole packet, its 4-byte length included, in {@code bytes()[0..size())}. */
    byte[] bytes() {
        return buf;
    }

    int size() {
        return length;
    }

    int type() {
        return buf[4] & 0xff;
    }

    /** The request id (every packet but INIT and VERSION has one). */
    int id() {
        return ByteBuffer.wrap(buf, 5, 4).getInt();
    }

    /**
     * Reads the next packet from {@code in}; false at a clean end of stream (between packets).
     *
     * @throws IOException on a length over {@link #MAX_LENGTH} or under 5, or a stream that ends inside a packet
     */
    boolean read(InputStream in) throws IOException {
        if (!readFully(in, 0, 4, true)) {
            return false;
        }
        int body = ByteBuffer.wrap(buf, 0, 4).getInt();
        ensure(body);
        readFully(in, 4, body, false);
        startFields();
        return true;
    }

    /** Checks a packet's length field (its first 4 bytes) and makes room for it; the rest is filled by the caller. */
    void ensure(int body) throws IOException {
        if (body < 5 || body > MAX_LENGTH) {
            throw new IOException("an SFTP packet of " + Integer.toUnsignedString(body) + " bytes (at most " + MAX_LENGTH + " are allowed)");
        }
        if (buf.length < 4 + body) {
            byte[] larger = new byte[Math.max(4 + body, Math.min(2 * buf.length, 4 + MAX_LENGTH))];
            System.arraycopy(buf, 0, larger, 0, 4); // the length, read already
            buf = larger;
        }
        length = 4 + body;
    }

    /** Appends bytes of the packet being assembled at {@code at}; see {@link #ensure}. */
    void put(int at, byte[] src, int off, int len) {
        System.arraycopy(src, off, buf, at, len);
    }

    /** The packet is complete: its fields are read from after the type and id. */
    void startFields() {
        pos = type() == INIT ? 5 : 9;
    }

    void clear() {
        length = 0;
    }

    private boolean readFully(InputStream in, int off, int len, boolean endAllowed) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(buf, off + done, len - done);
            if (n < 0) {
                if (done == 0 && endAllowed) {
                    return false;
                }
                throw new EOFException("the SFTP stream ended inside a packet");
            }
            done += n;
        }
        return true;
    }

    int u32() throws Malformed {
        need(4);
        int v = ByteBuffer.wrap(buf, pos, 4).getInt();
        pos += 4;
        return v;
    }

    long u64() throws Malformed {
        need(8);
        long v = ByteBuffer.wrap(buf, pos, 8).getLong();
        pos += 8;
        return v;
    }

    /** A string's bytes, as a key (ISO-8859-1 keeps every byte): handles. */
    String bytesKey() throws Malformed {
        int n = stringLength();
        String s = new String(buf, pos, n, StandardCharsets.ISO_8859_1);
        pos += n;
        return s;
    }

    /** Skips a string, returning its length: a WRITE's data. */
    int skipString() throws Malformed {
        int n = stringLength();
        pos += n;
        return n;
    }

    /** A path, strictly UTF-8, without NUL, at most {@link #MAX_PATH_BYTES}: what the policy decides is what the target opens. */
    String path() throws Malformed {
        int n = stringLength();
        if (n > MAX_PATH_BYTES) {
            throw new Malformed("a path longer than " + MAX_PATH_BYTES + " bytes");
        }
        for (int i = pos; i < pos + n; i++) {
            if (buf[i] == 0) {
                throw new Malformed("a path with a NUL byte");
            }
        }
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, pos, n)).toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw new Malformed("a path that is not UTF-8");
        }
    }

    /** A short name (an extension's), at most 256 bytes. */
    String name() throws Malformed {
        int n = stringLength();
        if (n > 256) {
            throw new Malformed("a name longer than 256 bytes");
        }
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private int stringLength() throws Malformed {
        int n = u32();
        if (n < 0 || n > length - pos) {
            throw new Malformed("a string longer than its packet");
        }
        return n;
    }

    private void need(int n) throws Malformed {
        if (length - pos < n) {
            throw new Malformed("a packet shorter than its fields");
        }
    }

    /** An SSH_FXP_STATUS answer to request {@code id}, its message cut to 1024 characters. */
    static byte[] status(int id, int code, String message) {
        byte[] text = (message.length() > 1024 ? message.substring(0, 1024) : message).getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 1 + 4 + 4 + 4 + text.length + 4);
        b.putInt(b.capacity() - 4).put((byte) STATUS).putInt(id).putInt(code).putInt(text.length).put(text).putInt(0);
        return b.array();
    }
}
