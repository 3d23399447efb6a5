package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.LinkedHashMap;
import java.util.Map;

/** ErrorResponse (and, with another type byte, NoticeResponse): typed fields such as severity, SQLSTATE, message. */
public record ErrorResponse(String severity, String sqlState, String message, String detail, String hint) {

    public static ErrorResponse fatal(String sqlState, String message) {
        return new ErrorResponse("FATAL", sqlState, message, null, null);
    }

    /** A NoticeResponse's fields (encode it with {@link PgProtocol#NOTICE_RESPONSE}). */
    public static ErrorResponse notice(String message) {
        return new ErrorResponse("NOTICE", "00000", message, null, null);
    }

    public static ErrorResponse error(String sqlState, String message) {
        return new ErrorResponse("ERROR", sqlState, message, null, null);
    }

    public ErrorResponse withHint(String hint) {
        return new ErrorResponse(severity, sqlState, message, detail, hint);
    }

    public ByteBuf encode(ByteBufAllocator alloc) {
        return encode(alloc, PgProtocol.ERROR_RESPONSE);
    }

    public ByteBuf encode(ByteBufAllocator alloc, byte type) {
        ByteBuf buf = alloc.buffer(64 + message.length() * 3);
        buf.writeByte(type).writeInt(0);
        field(buf, PgProtocol.FIELD_SEVERITY, severity);
        field(buf, PgProtocol.FIELD_SEVERITY_NONLOCALIZED, severity);
        field(buf, PgProtocol.FIELD_SQLSTATE, sqlState);
        field(buf, PgProtocol.FIELD_MESSAGE, message);
        field(buf, PgProtocol.FIELD_DETAIL, detail);
        field(buf, PgProtocol.FIELD_HINT, hint);
        buf.writeByte(0);
        buf.setInt(1, buf.writerIndex() - 1);
        return buf;
    }

    private static void field(ByteBuf buf, byte code, String value) {
        if (value != null) {
            buf.writeByte(code);
            PgStrings.write(buf, value);
        }
    }

    /** Reads the fields of a backend ErrorResponse or NoticeResponse frame (type and length included). */
    public static Map<Character, String> fields(ByteBuf frame) {
        ByteBuf buf = frame.duplicate();
        buf.skipBytes(5);
        Map<Character, String> fields = new LinkedHashMap<>();
        while (buf.isReadable()) {
            byte code = buf.readByte();
            if (code == 0) {
                break;
            }
            fields.put((char) code, PgStrings.read(buf));
        }
        return fields;
    }

    public static ErrorResponse decode(ByteBuf frame) {
        Map<Character, String> f = fields(frame);
        return new ErrorResponse(f.getOrDefault('V', f.get('S')), f.get('C'), f.get('M'), f.get('D'), f.get('H'));
    }
}
