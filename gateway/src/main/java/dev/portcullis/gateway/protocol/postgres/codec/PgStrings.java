package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/** Reading and writing the protocol's NUL-terminated strings. */
public final class PgStrings {
    private PgStrings() {
    }

    /** Reads a NUL-terminated UTF-8 string and moves past the NUL; fails if the buffer ends first. */
    public static String read(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new PgProtocolException("string is not NUL-terminated");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static void write(ByteBuf buf, String s) {
        ByteBufUtil.writeUtf8(buf, s);
        buf.writeByte(0);
    }

    public static int utf8Length(String s) {
        return ByteBufUtil.utf8Bytes(s) + 1;
    }
}
