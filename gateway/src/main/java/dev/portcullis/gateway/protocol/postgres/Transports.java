package dev.portcullis.gateway.protocol.postgres;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The relay's event loops and the channel types that fit them: epoll when Vert.x runs on the native transport
 * ({@code quarkus.vertx.prefer-native-transport} and a loadable netty-transport-native-epoll), the JDK's NIO otherwise.
 */
final class Transports {
    private Transports() {
    }

    /** {@code threads} event loops named {@code name-N}, on the transport Vert.x uses ({@code epoll} or not). */
    static EventLoopGroup group(int threads, boolean epoll, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("portcullis.postgres.event-loops must be at least 1, not " + threads);
        }
        DefaultThreadFactory factory = new DefaultThreadFactory(name, true);
        return epoll ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    static Class<? extends ServerChannel> serverChannel(EventLoopGroup loops) {
        return isEpoll(loops) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    static Class<? extends SocketChannel> socketChannel(EventLoop loop) {
        return isEpoll(loop.parent()) ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    static String name(EventLoopGroup loops) {
        return isEpoll(loops) ? "epoll" : "nio";
    }

    private static boolean isEpoll(EventLoopGroup loops) {
        return loops instanceof EpollEventLoopGroup;
    }
}
