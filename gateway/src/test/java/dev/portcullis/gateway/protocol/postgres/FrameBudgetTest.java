package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.codec.FrameBudget;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Large client messages take room from the shared budget while they arrive; a connection without room is not read. */
class FrameBudgetTest {
    private static final int LARGE = 1024 * 1024;
    private static final Duration RECEIVE_TIMEOUT = Duration.ofSeconds(60);

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
        FrameBudget budget = new FrameBudget(LARGE + LARGE / 2, RECEIVE_TIMEOUT);
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
        FrameBudget budget = new FrameBudget(0, RECEIVE_TIMEOUT);
        Client c = new Client(budget);
        c.write(header(FrameBudget.SMALL - 4).writeZero(100));
        assertFalse(c.held);
        assertEquals(0, budget.used());
        c.channel.finishAndReleaseAll();
    }

    @Test
    void a_large_message_not_whole_by_its_deadline_fails_the_connection_and_gives_its_room_to_the_next() {
        FrameBudget budget = new FrameBudget(LARGE, RECEIVE_TIMEOUT);
        Client trickler = new Client(budget);
        Client next = new Client(budget);
        trickler.channel.freezeTime();
        trickler.write(header(LARGE - 4));
        next.write(header(LARGE - 4));
        assertTrue(next.held, "no room for the second message");

        for (int second = 1; second < RECEIVE_TIMEOUT.toSeconds(); second++) { // a byte a second: a trickle
            trickler.channel.advanceTimeBy(1, TimeUnit.SECONDS);
            trickler.write(Unpooled.buffer(1).writeByte(' '));
        }
        assertEquals(LARGE, budget.used(), "held until the deadline");
        trickler.channel.advanceTimeBy(1, TimeUnit.SECONDS);
        trickler.channel.runPendingTasks();
        PgProtocolException e = assertThrows(PgProtocolException.class, trickler.channel::checkException);
        assertEquals("a message of " + LARGE + " bytes did not arrive whole within 1 min of its start", e.getMessage());
        assertEquals(0, budget.used(), "its room is given back at the deadline");
        trickler.write(Unpooled.buffer(LARGE).writeZero(LARGE));
        assertNull(trickler.channel.readInbound(), "what comes after the deadline is not a message");
        assertEquals(0, budget.used());

        next.channel.runPendingTasks();
        assertFalse(next.held, "the connection that waited for room is read again");
        next.write(Unpooled.buffer(LARGE - 4).writeZero(LARGE - 4));
        ByteBuf whole = next.channel.readInbound();
        assertEquals(1 + LARGE, whole.readableBytes());
        whole.release();
        trickler.channel.finishAndReleaseAll();
        next.channel.finishAndReleaseAll();
    }

    @Test
    void a_large_message_whole_in_time_has_no_deadline_left() {
        FrameBudget budget = new FrameBudget(LARGE, RECEIVE_TIMEOUT);
        Client c = new Client(budget);
        c.channel.freezeTime();
        c.write(header(LARGE - 4));
        c.channel.advanceTimeBy(RECEIVE_TIMEOUT.toSeconds() - 1, TimeUnit.SECONDS);
        c.write(Unpooled.buffer(LARGE - 4).writeZero(LARGE - 4));
        ByteBuf whole = c.channel.readInbound();
        assertEquals(1 + LARGE, whole.readableBytes());
        whole.release();
        c.channel.advanceTimeBy(RECEIVE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        c.channel.runPendingTasks();
        c.channel.checkException(); // nothing: the deadline went with the message
        assertEquals(0, budget.used());
        assertTrue(c.channel.isActive());
        c.channel.finishAndReleaseAll();
    }
}
