package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.codec.PgProtocolException;
import dev.portcullis.gateway.protocol.postgres.codec.PgStrings;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class RowDescriptionTest {

    static ByteBuf rowDescription(Object[]... fields) {
        ByteBuf b = Unpooled.buffer().writeByte('T').writeInt(0).writeShort(fields.length);
        for (Object[] f : fields) {
            PgStrings.write(b, (String) f[0]);
            b.writeInt((int) f[1]).writeShort((int) f[2]).writeInt((int) f[3]).writeShort(-1).writeInt(-1).writeShort((int) f[4]);
        }
        return b.setInt(1, b.writerIndex() - 1);
    }

    @Test
    void reads_every_field_also_from_a_slice_of_a_larger_buffer() {
        ByteBuf text = rowDescription(new Object[] {"id", 16384, 1, 23, 0}, new Object[] {"email", 16384, 3, 25, 0});
        ByteBuf binary = rowDescription(new Object[] {"id", 16384, 1, 23, 1}, new Object[] {"email", 16384, 3, 25, 1});
        RowDescription t = RowDescription.decode(text);
        // as the relay sees it: a slice of a larger read buffer
        ByteBuf read = Unpooled.buffer().writeBytes(new byte[] {1, 2, 3}).writeBytes(binary);
        RowDescription b = RowDescription.decode(read.slice(3, binary.writerIndex()));
        assertEquals(new RowDescription.Field("email", 16384, 3, 25, false), t.fields().get(1));
        assertTrue(b.fields().get(1).binary());
        assertEquals(java.util.List.of(16384, 16384), b.fields().stream().map(RowDescription.Field::tableOid).toList());
        assertArrayEquals(new boolean[] {true, true}, b.formats());
        assertArrayEquals(new boolean[] {false, true}, RowDescription.formats(new short[] {0, 1}, 2));
        assertArrayEquals(new boolean[] {true, true}, RowDescription.formats(new short[] {1}, 2));
        assertArrayEquals(new boolean[] {false, false}, RowDescription.formats(new short[0], 2));
    }

    @Test
    void a_computed_column_has_no_table() {
        assertTrue(RowDescription.decode(rowDescription(new Object[] {"lower", 0, 0, 25, 0})).fields().get(0).computed());
    }

    @Test
    void malformed_descriptions_are_rejected_before_allocating_for_them() {
        ByteBuf huge = Unpooled.buffer().writeByte('T').writeInt(6).writeShort(65535);
        assertThrows(PgProtocolException.class, () -> RowDescription.decode(huge));
        ByteBuf truncated = rowDescription(new Object[] {"id", 1, 1, 23, 0});
        truncated.writerIndex(truncated.writerIndex() - 3).setInt(1, truncated.writerIndex() - 1);
        assertThrows(PgProtocolException.class, () -> RowDescription.decode(truncated));
        ByteBuf unterminated = Unpooled.buffer().writeByte('T').writeInt(0).writeShort(1).writeBytes("abc".getBytes());
        unterminated.setInt(1, unterminated.writerIndex() - 1);
        assertThrows(PgProtocolException.class, () -> RowDescription.decode(unterminated));
    }
}
