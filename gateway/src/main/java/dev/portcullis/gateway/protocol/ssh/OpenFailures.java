package dev.portcullis.gateway.protocol.ssh;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.Service;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.AbstractServerSession;
import org.apache.sshd.server.session.ServerConnectionService;
import org.apache.sshd.server.session.ServerConnectionServiceFactory;

/**
 * The reason a client reads when the gateway refuses a channel it opens (a forward to an unlisted destination):
 * MINA SSHD 2.20 sends its own text in {@code SSH_MSG_CHANNEL_OPEN_FAILURE} ("Generic error while opening channel:
 * N"), whatever the refusal says. The gateway's connection service sends the refusal's own message instead, which
 * OpenSSH prints ({@code channel 2: open failed: administratively prohibited: Portcullis denied ...}). A refusal is
 * kept under the client's channel id only until its failure is sent.
 */
final class OpenFailures extends ServerConnectionServiceFactory {
    /** What a client reads at most of a refusal. */
    static final int MAX_REASON_CHARS = 1024;
    private static final AttributeRepository.AttributeKey<Map<Long, String>> REASONS = new AttributeRepository.AttributeKey<>();

    /** The reason for refusing the client's channel {@code recipient} on {@code session}, sent with its open failure. */
    static void refuse(Session session, long recipient, String reason) {
        session.computeAttributeIfAbsent(REASONS, k -> new ConcurrentHashMap<>()).put(recipient,
                reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS) : reason);
    }

    @Override
    public Service create(Session session) throws IOException {
        ServerConnectionService service = new ServerConnectionService((AbstractServerSession) session) {
            @Override
            protected IoWriteFuture sendChannelOpenFailure(Buffer buffer, long sender, int reasonCode, String message, String lang)
                    throws IOException {
                Map<Long, String> reasons = session.getAttribute(REASONS);
                String reason = reasons == null ? null : reasons.remove(sender);
                return super.sendChannelOpenFailure(buffer, sender, reasonCode, reason == null ? message : reason, lang);
            }
        };
        service.addPortForwardingEventListenerManager(this);
        return service;
    }
}
