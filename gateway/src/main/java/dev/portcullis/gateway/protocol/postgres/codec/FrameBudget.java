package dev.portcullis.gateway.protocol.postgres.codec;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room that large client messages being received may take, shared by every client connection of the gateway
 * ({@code portcullis.postgres.frame-budget-bytes}). A message longer than {@link #SMALL} reserves its whole length
 * before the decoder waits for its bytes, and gives it back once the message is whole (or the connection ends). A
 * connection that finds no room is not read until room is given back: its client waits, the gateway's memory does not
 * grow. A message that holds room must arrive whole within {@link #receiveTimeout()} of its reservation (
 * {@code portcullis.postgres.large-message-timeout}), or its connection is ended: room is lent, never kept. Thread-safe.
 */
public final class FrameBudget {
    /** Messages up to this length (as their length field gives it) are not counted: a connection may always buffer one. */
    public static final int SMALL = 64 * 1024;

    private final long capacity;
    private final Duration receiveTimeout;
    private final AtomicLong used = new AtomicLong();
    /** One entry per connection waiting for room (at most one each while it is not read). */
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    public FrameBudget(long capacity, Duration receiveTimeout) {
        this.capacity = capacity;
        this.receiveTimeout = receiveTimeout;
    }

    /** @return whether {@code bytes} were reserved */
    public boolean tryReserve(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > capacity) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    public void release(long bytes) {
        used.addAndGet(-bytes);
        Runnable w;
        while ((w = waiting.poll()) != null) {
            w.run();
        }
    }

    /** Runs {@code onRoom} once, at the next release (on the releasing thread: it should only hand over). */
    public void awaitRoom(Runnable onRoom) {
        waiting.add(onRoom);
    }

    /** Bytes reserved now. */
    public long used() {
        return used.get();
    }

    public long capacity() {
        return capacity;
    }

    /** How long a message may hold its room before it has arrived whole. */
    public Duration receiveTimeout() {
        return receiveTimeout;
    }
}
