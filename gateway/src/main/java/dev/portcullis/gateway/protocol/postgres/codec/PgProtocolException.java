package dev.portcullis.gateway.protocol.postgres.codec;

import io.netty.handler.codec.DecoderException;

/** A peer broke the wire protocol. The message is safe to send to the client: it never holds payload bytes. */
public final class PgProtocolException extends DecoderException {
    public PgProtocolException(String message) {
        super(message);
    }
}
