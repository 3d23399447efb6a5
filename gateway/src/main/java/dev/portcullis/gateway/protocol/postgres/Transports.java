package dev.portcullis.gateway.protocol.postgres;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The channel types that fit Vert.x's event loops: epoll when Vert.x runs on the native transport
 * ({@code quarkus.vertx.prefer-native-transport} and a loadable netty-transport-native-epoll), the JDK's NIO otherwise.
 */
final class Transports {
    private Transports() {
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
