package dev.portcullis.gateway.session;

import dev.portcullis.contract.SecretSealer;
import dev.portcullis.gateway.approval.Approvals;
import dev.portcullis.gateway.approval.Grants;
import dev.portcullis.gateway.connection.ConnectionRegistry;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.identity.TokenRejectedException;
import dev.portcullis.gateway.identity.TokenVerifier;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.PolicyDecider;
import dev.portcullis.gateway.recording.SessionRecorder;
import dev.portcullis.gateway.recording.SessionRecording;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * Opens sessions, the same way for every protocol: the access token is verified, the connection found in the
 * registry, {@code portcullis/session} decides, {@code session.started} is recorded, and the session joins the
 * registry (kill on any replica). Engines call {@link #open} once they have a token and a connection name.
 */
@ApplicationScoped
public class Sessions {
    private static final Logger LOG = Logger.getLogger(Sessions.class);

    private final TokenVerifier tokens;
    private final ConnectionRegistry connections;
    private final PolicyDecider policy;
    private final SessionRecorder recorder;
    private final SessionRegistry registry;
    private final Session.Parts parts;
    private final Grants grants;
    private final String gatewayId;

    Sessions(ReplicaId replica, TokenVerifier tokens, ConnectionRegistry connections, PolicyDecider policy,
            SessionRecorder recorder, SessionRegistry registry, SecretSealer sealer, Approvals approvals, Grants grants) {
        this.tokens = tokens;
        this.connections = connections;
        this.policy = policy;
        this.recorder = recorder;
        this.registry = registry;
        this.gatewayId = replica.value();
        this.parts = new Session.Parts(policy, sealer, registry, approvals, grants);
        this.grants = grants;
    }

    /**
     * Opens a session.
     *
     * @param token      the client's OIDC access token
     * @param user       the user name the client logged in with: it must be the token's identity's name; null for a
     *                   protocol without a login name of its own (Kubernetes: the bearer token is all)
     * @param connection the registered connection's name
     * @param protocol   the engine's protocol; the connection must be of this type
     * @param sourceIp   the client's address
     * @param executor   where the session's work runs: the engine's thread for this client
     * @return the session, or completes exceptionally with {@link SessionRefused}
     */
    public CompletionStage<Session> open(String token, String user, String connection, String protocol, String sourceIp,
            Executor executor) {
        String id = UUID.randomUUID().toString();
        if (!registry.admit()) {
            return CompletableFuture.failedFuture(new SessionRefused(SessionRefused.Reason.UNAVAILABLE,
                    "Portcullis is shutting down and takes no new sessions", "connect again: another gateway replica will take it"));
        }
        return open(id, tokens.verify(token), user, connection, protocol, sourceIp, executor);
    }

    /**
     * Opens a session for an identity the engine established itself from a credential the gateway issued (an SSH
     * certificate signed by its CA); everything else as {@link #open(String, String, String, String, String, Executor)}.
     */
    public CompletionStage<Session> open(Identity identity, String connection, String protocol, String sourceIp, Executor executor) {
        String id = UUID.randomUUID().toString();
        if (!registry.admit()) {
            return CompletableFuture.failedFuture(new SessionRefused(SessionRefused.Reason.UNAVAILABLE,
                    "Portcullis is shutting down and takes no new sessions", "connect again: another gateway replica will take it"));
        }
        return open(id, CompletableFuture.completedFuture(identity), null, connection, protocol, sourceIp, executor);
    }

    /** After {@link SessionRegistry#admit()}: admitted() is called whatever the outcome. */
    private CompletionStage<Session> open(String id, CompletionStage<Identity> verified, String user, String connection, String protocol,
            String sourceIp, Executor executor) {
        return verified.thenCompose(identity -> connections.find(connection).thenCompose(found -> {
                    if (user != null && !identity.name().equals(user)) {
                        LOG.infof("session %s: %s logged in with user name \"%s\": refused", id, identity.name(), user);
                        throw new SessionRefused(SessionRefused.Reason.WRONG_USER, "user name \"" + user
                                + "\" does not match the access token, which is " + identity.name() + "'s",
                                "connect with user=" + identity.name() + ", or with an access token of " + user);
                    }
                    TargetConnection target = found.orElseThrow(() -> new SessionRefused(SessionRefused.Reason.UNKNOWN_CONNECTION,
                            "connection \"" + connection + "\" is not registered with Portcullis",
                            "name a registered connection; ask an administrator which ones you may use"));
                    if (!protocol.equals(target.type())) {
                        throw new SessionRefused(SessionRefused.Reason.WRONG_PROTOCOL, "connection \"" + target.name() + "\" is a "
                                + target.type() + " connection, not a " + protocol + " one", null);
                    }
                    DecisionInput.SessionContext context = DecisionInput.SessionContext.of(identity, target, sourceIp);
                    return grants.active(identity.subject(), target.name()).thenCompose(active -> policy.decide("session",
                                    context.with(null, active.stream().map(Grants.Active::input).toList()))
                            .thenApply(decision -> started(id, identity, target, context, active, decision, executor)));
                }))
                .whenComplete((session, failure) -> registry.admitted())
                .exceptionally(failure -> {
                    throw refusal(id, failure);
                });
    }

    private Session started(String id, Identity identity, TargetConnection target, DecisionInput.SessionContext context,
            List<Grants.Active> active, Decision decision, Executor executor) {
        if (!decision.allow()) {
            LOG.infof("session %s: %s denied a session on %s [decision %s, policy %s]: %s", id, identity.name(), target.name(),
                    decision.decisionId(), decision.policy(), decision.reasons());
            throw new SessionRefused(SessionRefused.Reason.DENIED, decision.denialMessage("this session"), null);
        }
        // Pass-through mode (benchmarks of the bare relay) neither masks nor records.
        SessionRecording recording = policy.passThrough() ? null
                : SessionRecording.start(recorder, UUID.fromString(id), context, gatewayId);
        Session session = new Session(id, identity, target, context, parts, active, executor, recording);
        registry.register(session);
        LOG.infof("session %s: %s (%s, groups %s) opened %s", id, identity.name(), identity.kind(), identity.groups(), target.name());
        return session;
    }

    private static SessionRefused refusal(String id, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof SessionRefused refused) {
            return refused;
        }
        if (cause instanceof TokenRejectedException rejected) {
            LOG.infof("session %s: access token rejected: %s", id, rejected.getMessage());
            return new SessionRefused(SessionRefused.Reason.AUTHENTICATION, "Portcullis authentication failed: " + rejected.getMessage(),
                    "get a fresh access token from your OIDC issuer and pass it as the password");
        }
        LOG.errorf(cause, "session %s: opening it failed", id);
        return new SessionRefused(SessionRefused.Reason.UNAVAILABLE, "Portcullis could not set up the session (internal error); try again later", null);
    }
}
