package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.protocol.postgres.codec.BackendMessages;
import dev.portcullis.gateway.protocol.postgres.codec.ErrorResponse;
import dev.portcullis.gateway.protocol.postgres.codec.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;

/**
 * Puts the gateway's own answers (a denial's ErrorResponse, and ReadyForQuery where the backend will not send
 * one) into the client's response stream at the right place. A client may pipeline: responses to messages
 * forwarded before a denied one are still on their way from the backend, and the denial must come after them.
 *
 * <p>Counts the messages that end in a ReadyForQuery (Query, Sync, FunctionCall) as they are forwarded and the
 * ReadyForQuery frames as they come back; an injection waits for its position. Confined to the event loop.
 */
final class ResponseSequencer {
    private long forwarded;
    private long answered;
    private boolean backendErrorInBatch;
    private byte transactionStatus;
    private final ArrayDeque<Injection> pending = new ArrayDeque<>();

    /**
     * @param afterReadyForQuery the position: after this many backend ReadyForQuery frames
     * @param ownReadyForQuery   whether the gateway sends ReadyForQuery itself (true) or the error goes just before
     *                           the backend's ReadyForQuery number {@code afterReadyForQuery} (false), and only if
     *                           the backend did not already fail that batch
     */
    private record Injection(long afterReadyForQuery, ErrorResponse error, boolean ownReadyForQuery) {
    }

    ResponseSequencer(byte initialTransactionStatus) {
        this.transactionStatus = initialTransactionStatus;
    }

    /** Called for every frame forwarded to the backend. */
    void forwarded(byte type) {
        if (type == PgProtocol.QUERY || type == PgProtocol.SYNC || type == PgProtocol.FUNCTION_CALL) {
            forwarded++;
        }
    }

    /** A denied Query or FunctionCall, or a denied extended batch none of which was forwarded: error, then ReadyForQuery. */
    void denyWithOwnReadyForQuery(ChannelHandlerContext client, ErrorResponse error) {
        if (pending.isEmpty() && answered == forwarded) {
            client.write(error.encode(client.alloc()));
            client.write(BackendMessages.readyForQuery(client.alloc(), transactionStatus));
        } else {
            pending.add(new Injection(forwarded, error, true));
        }
    }

    /** A denied extended batch of which earlier messages were forwarded: its Sync was forwarded, the error goes before its ReadyForQuery. */
    void denyBeforeBackendReadyForQuery(ErrorResponse error) {
        pending.add(new Injection(forwarded, error, false));
    }

    /** The transaction status of a ReadyForQuery the client never sees (one answering the gateway's own Sync). */
    void observe(byte status) {
        transactionStatus = status;
    }

    /** The gateway put an ErrorResponse of its own into this batch's responses (a withheld result). */
    void backendErrorInBatch() {
        backendErrorInBatch = true;
    }

    /**
     * Relays one backend frame to the client, adding any injection that is due. Returns nothing: the frame is
     * written (ownership passes to the client channel).
     */
    void relay(ChannelHandlerContext client, ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        if (type == PgProtocol.READY_FOR_QUERY) {
            answered++;
            transactionStatus = frame.getByte(frame.readerIndex() + 5);
            Injection head = pending.peek();
            if (head != null && !head.ownReadyForQuery() && head.afterReadyForQuery() == answered) {
                pending.poll();
                if (!backendErrorInBatch) {
                    client.write(head.error().encode(client.alloc()));
                }
            }
            backendErrorInBatch = false;
            client.write(frame, client.voidPromise());
            while ((head = pending.peek()) != null && head.ownReadyForQuery() && head.afterReadyForQuery() <= answered) {
                pending.poll();
                client.write(head.error().encode(client.alloc()));
                client.write(BackendMessages.readyForQuery(client.alloc(), transactionStatus));
            }
            return;
        }
        if (type == PgProtocol.ERROR_RESPONSE) {
            backendErrorInBatch = true;
        }
        client.write(frame, client.voidPromise());
    }
}
