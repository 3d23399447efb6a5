package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.EventExecutor;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TransportsTest {

    @Test
    void fewer_than_one_event_loop_is_refused_and_the_error_names_the_setting() {
        var e = assertThrows(IllegalArgumentException.class, () -> Transports.group(0, false, "portcullis-pg-loop"));
        assertTrue(e.getMessage().contains("portcullis.postgres.event-loops"), e.getMessage());
    }

    @Test
    void the_relay_gets_as_many_named_loops_as_configured_on_the_transport_asked_for() throws Exception {
        for (boolean epoll : Epoll.isAvailable() ? new boolean[] {false, true} : new boolean[] {false}) {
            EventLoopGroup loops = Transports.group(3, epoll, "portcullis-pg-loop");
            try {
                assertEquals(epoll ? "epoll" : "nio", Transports.name(loops));
                Set<String> threads = new HashSet<>();
                for (EventExecutor loop : loops) {
                    threads.add(loop.submit(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS));
                }
                assertEquals(3, threads.size(), String.valueOf(threads));
                threads.forEach(name -> assertTrue(name.startsWith("portcullis-pg-loop"), name));
            } finally {
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }
}
