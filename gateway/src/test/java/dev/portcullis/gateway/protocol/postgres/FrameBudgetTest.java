package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** Large client messages take room from the shared budget while they arrive; a connection without room is not read. */
class FrameBudgetTest {
    private static final int LARGE = 1024 * 1024;

    /** A client channel whose decoder counts against {@code budget}, with the read hold it is given. */
    private static final class Client {
        final EmbeddedChannel channel = new EmbeddedChannel();
        boolean held;
        /** Reads asked for while auto-read was off: none may be asked for while the connection waits for room. */
        int readsWhileHeld;

        Client(FrameBudget budget) {
            channel.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                @Override
                public void read(ChannelHandlerContext ctx) {
                    if (held) {
                        readsWhileHeld++;
                    }
                    ctx.read();
                }
            });
            channel.pipeline().addLast(new PgFrameDecoder(64 * 1024 * 1024, budget, new PgFrameDecoder.ReadHold() {
                @Override
                public void hold() {
                    held = true;
                    channel.config().setAutoRead(false);
                }

                @Override
                public void release() {
                    held = false;
                    channel.config().setAutoRead(true);
                }
            }));
        }

        void write(ByteBuf bytes) {
            channel.writeInbound(bytes);
            channel.runPendingTasks();
        }
    }

    private static ByteBuf header(int bodyLength) {
        return Unpooled.buffer(5).writeByte('Q').writeInt(bodyLength + 4);
    }

    @Test
    void a_large_message_reserves_its_length_until_it_is_whole_and_a_second_one_waits_for_room() {
        FrameBudget budget = new FrameBudget(LARGE + LARGE / 2);
        Client first = new Client(budget);
        Client second = new Client(budget);

        first.write(header(LARGE - 4));
        assertEquals(LARGE, budget.used(), "the whole message length is reserved from its header on");
        assertFalse(first.held);

        second.write(header(LARGE - 4));
        assertTrue(second.held, "no room: the second connection is not read");
        second.write(Unpooled.buffer(100).writeZero(100)); // what was already on its way
        assertEquals(0, second.readsWhileHeld, "nor does the decoder ask for another read");
        assertEquals(LARGE, budget.used());

        first.write(Unpooled.buffer(LARGE - 5).writeZero(LARGE - 5)); // all but the last byte
        assertEquals(LARGE, budget.used());
        first.write(Unpooled.buffer(1).writeByte(0));
        ByteBuf whole = first.channel.readInbound();
        assertEquals(1 + LARGE, whole.readableBytes());
        whole.release();
        assertEquals(0, budget.used(), "room is given back once the message is whole");

        second.channel.runPendingTasks();
        assertFalse(second.held, "the waiting connection is read again");
        second.write(Unpooled.buffer(1).writeByte(0));
        assertEquals(LARGE, budget.used(), "its next read reserves the room");
        assertFalse(second.held);

        second.channel.finishAndReleaseAll();
        assertEquals(0, budget.used(), "a connection that ends gives its room back");
        first.channel.finishAndReleaseAll();
    }

    @Test
    void small_messages_do_not_count() {
        FrameBudget budget = new FrameBudget(0);
        Client c = new Client(budget);
        c.write(header(FrameBudget.SMALL - 4).writeZero(100));
        assertFalse(c.held);
        assertEquals(0, budget.used());
        c.channel.finishAndReleaseAll();
    }
}
