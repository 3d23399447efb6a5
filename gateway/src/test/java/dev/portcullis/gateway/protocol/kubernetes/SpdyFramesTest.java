package dev.portcullis.gateway.protocol.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * The gateway's reading of SPDY/3.1 as kubectl's port-forward speaks it: frames split anywhere between messages, header
 * blocks in one compression context per direction, and every length that a peer could lie about refused before it is
 * allocated. (The whole path, with the real kubectl and API server, is KubectlPortForwardTest.)
 */
class SpdyFramesTest {

    @Test
    void the_header_dictionary_is_the_one_of_the_spdy3_specification() throws Exception {
        assertEquals(1423, SpdyHeaderBlock.DICTIONARY.length);
        assertEquals("51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(SpdyHeaderBlock.DICTIONARY)));
    }

    @Test
    void header_blocks_round_trip_in_one_compression_context_per_direction() throws Exception {
        SpdyHeaderBlock.Writer writer = new SpdyHeaderBlock.Writer();
        SpdyHeaderBlock.Reader reader = new SpdyHeaderBlock.Reader();
        try {
            for (int request = 0; request < 5; request++) {
                List<SpdyHeaderBlock.Header> sent = List.of(new SpdyHeaderBlock.Header("streamtype", "error"),
                        new SpdyHeaderBlock.Header("port", "80"), new SpdyHeaderBlock.Header("requestid", String.valueOf(request)));
                assertEquals(sent, reader.read(writer.write(sent)));
            }
            assertEquals("80", SpdyHeaderBlock.value(reader.read(writer.write(List.of(new SpdyHeaderBlock.Header("port", "80")))),
                    "Port"));
        } finally {
            writer.close();
            reader.close();
        }
    }

    @Test
    void a_header_block_that_inflates_beyond_the_cap_is_refused() {
        // 1 MiB of one header value compresses to about a kilobyte: a zlib bomb against a naive reader
        String big = "a".repeat(1 << 20);
        SpdyHeaderBlock.Writer writer = new SpdyHeaderBlock.Writer();
        SpdyHeaderBlock.Reader reader = new SpdyHeaderBlock.Reader();
        try {
            Buffer compressed = writer.write(List.of(new SpdyHeaderBlock.Header("x", big)));
            assertTrue(compressed.length() < 16384, "compressed " + compressed.length());
            SpdyHeaderBlock.Malformed e = assertThrows(SpdyHeaderBlock.Malformed.class, () -> reader.read(compressed));
            assertTrue(e.getMessage().contains("16384"), e.getMessage());
        } finally {
            writer.close();
            reader.close();
        }
    }

    @Test
    void lying_lengths_and_counts_in_a_block_are_refused_before_allocating() {
        // a count of 2^32-1 headers in 12 bytes
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendInt(-1).appendLong(0)));
        // a name of 2^31 bytes
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendInt(1)
                .appendInt(Integer.MAX_VALUE).appendInt(0)));
        // a value longer than what is left
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendInt(1).appendInt(1)
                .appendString("p").appendInt(5).appendString("80")));
        // bytes after the last header, an empty name, a block too short for its count
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendInt(0).appendByte((byte) 1)));
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendInt(1).appendInt(0).appendInt(0)));
        assertThrows(SpdyHeaderBlock.Malformed.class, () -> SpdyHeaderBlock.parse(Buffer.buffer().appendShort((short) 0)));
        SpdyHeaderBlock.Reader reader = new SpdyHeaderBlock.Reader();
        try {
            assertThrows(SpdyHeaderBlock.Malformed.class, () -> reader.read(Buffer.buffer("not zlib at all")));
        } finally {
            reader.close();
        }
    }

    @Test
    void a_block_of_another_zlib_writer_is_read_with_the_dictionary_it_asks_for() throws Exception {
        // as Go's zlib writes it for spdystream: the stream names the dictionary by its checksum
        Deflater d = new Deflater();
        d.setDictionary(SpdyHeaderBlock.DICTIONARY);
        d.setInput(SpdyHeaderBlock.encode(List.of(new SpdyHeaderBlock.Header("port", "8080"))).getBytes());
        byte[] out = new byte[256];
        int n = d.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
        d.end();
        SpdyHeaderBlock.Reader reader = new SpdyHeaderBlock.Reader();
        try {
            assertEquals("8080", SpdyHeaderBlock.value(reader.read(Buffer.buffer().appendBytes(out, 0, n)), "port"));
        } finally {
            reader.close();
        }
    }

    @Test
    void frames_split_anywhere_come_out_whole_and_data_passes_in_pieces() throws Exception {
        Buffer wire = Buffer.buffer().appendBuffer(SpdyFrames.control(SpdyFrames.PING, 0, Buffer.buffer().appendInt(7)))
                .appendBuffer(SpdyFrames.dataHeader(3, SpdyFrames.FLAG_FIN, 10)).appendString("0123456789")
                .appendBuffer(SpdyFrames.dataHeader(5, 0, 0))
                .appendBuffer(SpdyFrames.control(SpdyFrames.RST_STREAM, 0, Buffer.buffer().appendInt(3).appendInt(5)));
        for (int split = 1; split < wire.length(); split++) {
            SpdyFrames frames = new SpdyFrames(64);
            List<SpdyFrames.Item> items = new ArrayList<>();
            frames.add(wire.getBuffer(0, split));
            drain(frames, items);
            frames.add(wire.getBuffer(split, wire.length()));
            drain(frames, items);
            assertTrue(frames.atBoundary());
            SpdyFrames.Control ping = assertInstanceOf(SpdyFrames.Control.class, items.get(0));
            assertEquals(SpdyFrames.PING, ping.type());
            StringBuilder payload = new StringBuilder();
            int i = 1;
            for (; items.get(i) instanceof SpdyFrames.Data d && d.streamId() == 3; i++) {
                assertEquals(i == 1, d.first(), "split " + split);
                payload.append(d.piece().toString());
                if (d.last()) {
                    assertTrue(d.fin());
                }
            }
            assertEquals("0123456789", payload.toString(), "split " + split);
            SpdyFrames.Data empty = assertInstanceOf(SpdyFrames.Data.class, items.get(i));
            assertTrue(empty.first() && empty.last() && empty.length() == 0 && empty.streamId() == 5);
            SpdyFrames.Control rst = assertInstanceOf(SpdyFrames.Control.class, items.get(i + 1));
            assertEquals(SpdyFrames.RST_STREAM, rst.type());
            assertEquals(3, rst.streamId());
        }
    }

    @Test
    void a_data_frame_of_16_mib_is_streamed_not_held() throws Exception {
        SpdyFrames frames = new SpdyFrames(64);
        frames.add(SpdyFrames.dataHeader(1, 0, 0xffffff).appendString("abc"));
        SpdyFrames.Data d = (SpdyFrames.Data) frames.next();
        assertEquals(3, d.piece().length());
        assertFalse(d.last());
        assertNull(frames.next());
        assertFalse(frames.atBoundary(), "inside the data frame: nothing of the gateway's own may be written now");
    }

    @Test
    void oversized_control_frames_other_versions_and_data_on_stream_zero_are_refused() {
        SpdyFrames big = new SpdyFrames(64);
        // the length is refused from the header alone, before the 16 MiB body arrives
        big.add(Buffer.buffer().appendInt(0x80030001).appendByte((byte) 0).appendMedium(0xffffff));
        SpdyHeaderBlock.Malformed e = assertThrows(SpdyHeaderBlock.Malformed.class, big::next);
        assertTrue(e.getMessage().contains("16777215 bytes"), e.getMessage());
        SpdyFrames v2 = new SpdyFrames(64);
        v2.add(Buffer.buffer().appendInt(0x80020001).appendInt(0));
        assertThrows(SpdyHeaderBlock.Malformed.class, v2::next);
        SpdyFrames zero = new SpdyFrames(64);
        zero.add(SpdyFrames.dataHeader(0, 0, 1).appendByte((byte) 1));
        assertThrows(SpdyHeaderBlock.Malformed.class, zero::next);
    }

    private static void drain(SpdyFrames frames, List<SpdyFrames.Item> items) throws SpdyHeaderBlock.Malformed {
        for (SpdyFrames.Item item; (item = frames.next()) != null;) {
            items.add(item);
        }
    }
}
