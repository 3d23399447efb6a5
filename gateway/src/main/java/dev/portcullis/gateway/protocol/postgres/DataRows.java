package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.masking.MaskPlan;
import io.netty.buffer.ByteBuf;
import java.util.Set;

/** Rewrites one DataRow message with a {@link MaskPlan}, every length recomputed; memory for one row, whatever the result. */
final class DataRows {
    private DataRows() {
    }

    /**
     * Appends the masked form of the DataRow at {@code in[start, start + length)} to {@code out}.
     *
     * @param binary per column, whether its value is in binary format
     * @param fired  collects the detectors that found something
     * @throws MaskPlan.MaskingException if the row does not match the shape (then nothing sensible was appended)
     */
    static void append(MaskPlan plan, ByteBuf in, int start, int length, boolean[] binary, ByteBuf out, Set<Detectors.Kind> fired) {
        int end = start + length;
        if (length < 7) {
            throw new MaskPlan.MaskingException("a DataRow is too short");
        }
        int count = in.getUnsignedShort(start + 5);
        if (count != plan.columnCount()) {
            throw new MaskPlan.MaskingException("a DataRow has " + count + " columns where its RowDescription announced " + plan.columnCount());
        }
        int lengthAt = out.writerIndex() + 1;
        out.writeByte('D').writeInt(0).writeShort(count);
        int pos = start + 7;
        for (int i = 0; i < count; i++) {
            if (pos + 4 > end) {
                throw new MaskPlan.MaskingException("a DataRow ends inside its column " + (i + 1));
            }
            int len = in.getInt(pos);
            pos += 4;
            if (len < -1 || len > end - pos) {
                throw new MaskPlan.MaskingException("a DataRow's column " + (i + 1) + " has an invalid length " + len);
            }
            plan.appendField(i, in, pos, len, binary != null && i < binary.length && binary[i], out, fired);
            if (len > 0) {
                pos += len;
            }
        }
        if (pos != end) {
            throw new MaskPlan.MaskingException("a DataRow has " + (end - pos) + " bytes after its last column");
        }
        out.setInt(lengthAt, out.writerIndex() - lengthAt);
    }
}
