package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.identity.TokenRejectedException;
import dev.portcullis.gateway.identity.TokenVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.auth.AsyncAuthException;
import org.apache.sshd.server.auth.keyboard.InteractiveChallenge;
import org.apache.sshd.server.auth.keyboard.KeyboardInteractiveAuthenticator;
import org.apache.sshd.server.session.ServerSession;
import org.jboss.logging.Logger;

/**
 * The second way to log in, besides a certificate: the OIDC access token as the answer to a keyboard-interactive prompt
 * ({@code ssh -o PreferredAuthentications=keyboard-interactive demo-box@gateway}, then paste the token). OpenSSH reads at
 * most {@value #OPENSSH_MAX_ANSWER_BYTES} bytes of an answer, from a terminal or from SSH_ASKPASS alike, and silently
 * drops the rest: a longer token arrives cut, fails its signature check, and the client is told so in a banner (which
 * OpenSSH prints) and pointed to certificates, which have no such limit. Any other refusal says which check failed;
 * never the token.
 */
final class TokenPrompt implements KeyboardInteractiveAuthenticator {
    private static final Logger LOG = Logger.getLogger(TokenPrompt.class);
    /** OpenSSH's readpass.c reads an answer into a 1024-byte buffer, NUL included. */
    static final int OPENSSH_MAX_ANSWER_BYTES = 1023;
    static final String PROMPT = "Portcullis access token (OpenSSH sends at most " + OPENSSH_MAX_ANSWER_BYTES + " bytes; for a"
            + " longer token log in with a certificate: dev-services/stack ssh-login NAME, or POST /ssh/certificates): ";
    static final String CUT = "Portcullis refused the access token: it arrived exactly " + OPENSSH_MAX_ANSWER_BYTES + " bytes"
            + " long and does not verify, so OpenSSH most likely cut a longer token (it reads at most " + OPENSSH_MAX_ANSWER_BYTES
            + " bytes of an answer). Log in with a short-lived certificate instead: dev-services/stack ssh-login NAME writes"
            + " one (POST /ssh/certificates with the token as bearer), and ssh -F <its ssh_config> <connection> uses it.\n";
    private static final Duration VERIFY_TIMEOUT = Duration.ofSeconds(10);

    /** Accepts a verified identity for the connection named in the user field, or refuses it. */
    interface Accept {
        boolean accept(ServerSession session, String username, Identity identity);
    }

    private final TokenVerifier tokens;
    private final Accept accept;

    TokenPrompt(TokenVerifier tokens, Accept accept) {
        this.tokens = tokens;
        this.accept = accept;
    }

    @Override
    public InteractiveChallenge generateChallenge(ServerSession session, String username, String lang, String subMethods) {
        InteractiveChallenge challenge = new InteractiveChallenge();
        challenge.setInteractionName("");
        challenge.setInteractionInstruction("");
        challenge.setLanguageTag("");
        challenge.addPrompt(PROMPT, false);
        return challenge;
    }

    /**
     * Called on an SSH I/O thread, which must not wait for the token's check (a JWKS fetch may take seconds): the answer
     * is MINA's {@link AsyncAuthException}, completed when the check ends, or refused after {@link #VERIFY_TIMEOUT}.
     */
    @Override
    public boolean authenticate(ServerSession session, String username, List<String> responses) {
        if (responses == null || responses.size() != 1) {
            return false;
        }
        boolean cut = responses.get(0).getBytes(StandardCharsets.UTF_8).length == OPENSSH_MAX_ANSWER_BYTES;
        AsyncAuthException pending = new AsyncAuthException();
        tokens.verify(responses.get(0).strip()).toCompletableFuture().orTimeout(VERIFY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((identity, failure) -> {
                    boolean authed = false;
                    try {
                        authed = decide(session, username, identity, failure, cut);
                    } catch (RuntimeException e) {
                        LOG.warnf("ssh token login to %s refused: %s", SshEngine.printable(username), e.toString());
                    } finally {
                        pending.setAuthed(authed); // always answered, so a failed check never leaves the login waiting
                    }
                });
        throw pending;
    }

    private boolean decide(ServerSession session, String username, Identity identity, Throwable failure, boolean cut) {
        if (failure == null) {
            return accept.accept(session, username, identity);
        }
        Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
        if (cause instanceof TimeoutException) {
            banner(session, "Portcullis could not verify the access token in time; try again.\n");
            return false;
        }
        String why = cause instanceof TokenRejectedException rejected ? rejected.getMessage() : "it could not be verified";
        LOG.infof("ssh token login to %s refused: %s%s", SshEngine.printable(username), why, cut ? " (cut at "
                + OPENSSH_MAX_ANSWER_BYTES + " bytes)" : "");
        banner(session, cut ? CUT : "Portcullis refused the access token: " + why + ".\n");
        return false;
    }

    /** SSH_MSG_USERAUTH_BANNER (RFC 4252 5.4): allowed until authentication succeeds, and OpenSSH prints it on stderr. */
    private static void banner(ServerSession session, String message) {
        try {
            Buffer buffer = session.createBuffer(SshConstants.SSH_MSG_USERAUTH_BANNER, message.length() + 16);
            buffer.putString(message);
            buffer.putString("");
            session.writePacket(buffer);
        } catch (Exception e) {
            LOG.debugf("could not send the banner: %s", e.getMessage());
        }
    }
}
