package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** StartupMessage: protocol version and the session parameters ({@code user}, {@code database}, GUCs). */
public record StartupMessage(int protocolVersion, Map<String, String> parameters) {

    public int majorVersion() {
        return protocolVersion >>> 16;
    }

    public int minorVersion() {
        return protocolVersion & 0xffff;
    }

    public String user() {
        return parameters.get("user");
    }

    /** The database a client asks for; PostgreSQL defaults it to the user name. */
    public String database() {
        return parameters.getOrDefault("database", user());
    }

    /** @param packet the whole packet, length included */
    public static StartupMessage decode(ByteBuf packet) {
        ByteBuf buf = packet.duplicate();
        buf.skipBytes(4);
        int version = buf.readInt();
        Map<String, String> params = new LinkedHashMap<>();
        while (buf.isReadable()) {
            String name = PgStrings.read(buf);
            if (name.isEmpty()) {
                if (buf.isReadable()) {
                    throw new PgProtocolException("unexpected bytes after the startup parameters");
                }
                return new StartupMessage(version, Collections.unmodifiableMap(params));
            }
            params.put(name, PgStrings.read(buf));
        }
        throw new PgProtocolException("startup packet is not terminated");
    }

    public ByteBuf encode(ByteBufAllocator alloc) {
        int length = 4 + 4 + 1;
        for (var e : parameters.entrySet()) {
            length += PgStrings.utf8Length(e.getKey()) + PgStrings.utf8Length(e.getValue());
        }
        ByteBuf buf = alloc.buffer(length);
        buf.writeInt(length).writeInt(protocolVersion);
        parameters.forEach((k, v) -> {
            PgStrings.write(buf, k);
            PgStrings.write(buf, v);
        });
        buf.writeByte(0);
        return buf;
    }
}
