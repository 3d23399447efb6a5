package dev.portcullis.gateway.protocol.postgres;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.List;

/**
 * A backend connection that finished startup: logged in and ready for a query. Holds the backend's
 * ParameterStatus frames (to replay to the client) and its real cancel key (which the client never sees).
 */
record BackendLink(Channel channel, List<ByteBuf> parameterStatus, int processId, int secretKey, byte transactionStatus) {
}
