package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A RowDescription message, read: each column's label, source table OID and attribute number (0 when the
 * column is computed), type OID and format.
 */
public record RowDescription(List<Field> fields) {

    public record Field(String name, int tableOid, int attnum, int typeOid, boolean binary) {
        public boolean computed() {
            return tableOid == 0 || attnum <= 0;
        }
    }

    /** @param frame a whole RowDescription frame, type byte included; not released */
    public static RowDescription decode(ByteBuf frame) {
        ByteBuf buf = frame.duplicate();
        buf.skipBytes(5);
        if (buf.readableBytes() < 2) {
            throw new PgProtocolException("RowDescription is too short");
        }
        int count = buf.readUnsignedShort();
        if (count * 19L > buf.readableBytes()) {
            throw new PgProtocolException("RowDescription announces " + count + " columns but is too short for them");
        }
        List<Field> fields = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = PgStrings.read(buf);
            if (buf.readableBytes() < 18) {
                throw new PgProtocolException("RowDescription ends inside column " + (i + 1));
            }
            int tableOid = buf.readInt();
            int attnum = buf.readShort();
            int typeOid = buf.readInt();
            buf.skipBytes(2 + 4); // type length, type modifier
            int format = buf.readShort();
            fields.add(new Field(name, tableOid, attnum, typeOid, format == 1));
        }
        if (buf.isReadable()) {
            throw new PgProtocolException("RowDescription has bytes after its last column");
        }
        return new RowDescription(List.copyOf(fields));
    }

    /** Which columns are binary, as a Bind's result format codes say (none, one for all, or one per column). */
    public static boolean[] formats(short[] resultFormats, int columns) {
        boolean[] binary = new boolean[columns];
        for (int i = 0; i < columns; i++) {
            binary[i] = resultFormats.length == 1 ? resultFormats[0] == 1 : resultFormats.length > i && resultFormats[i] == 1;
        }
        return binary;
    }

    public boolean[] formats() {
        boolean[] binary = new boolean[fields.size()];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = fields.get(i).binary();
        }
        return binary;
    }
}
