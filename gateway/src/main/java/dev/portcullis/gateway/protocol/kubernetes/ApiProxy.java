package dev.portcullis.gateway.protocol.kubernetes;

import dev.portcullis.gateway.GatewayConfig;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.masking.Detectors;
import dev.portcullis.gateway.policy.Decision;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRefused;
import dev.portcullis.gateway.session.Verdict;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * One Kubernetes API call through the gateway, in the order of its phases: the cluster from the path
 * ({@code /k8s/<connection>/...}), the session of the bearer token (the spine's), the request read as the apiserver's
 * RequestInfo, the decision ({@code portcullis/request}), and then the call to the cluster as the gateway, impersonating
 * the identity, with the response streamed back under backpressure (watches and {@code logs -f} included). A denial is
 * a 403 {@link Status}; an exec goes to {@link ExecRelay}, a port-forward to {@link PortForwardRelay}.
 */
final class ApiProxy {
    private static final Logger LOG = Logger.getLogger(ApiProxy.class);
    static final String PREFIX = "/k8s/";
    /**
     * The only client headers the API server sees: what describes the body and what it should return. Everything else
     * is dropped, whatever its letter case: Authorization, Impersonate-*, the request-header authentication headers
     * (X-Remote-User, X-Remote-Group, X-Remote-Extra-*) and anything a future version of them might add, so a client can
     * never choose its own Kubernetes identity.
     */
    private static final Set<String> FORWARDED_HEADERS = Set.of("accept", "content-type", "content-length", "content-encoding",
            "user-agent", "kubectl-command", "kubectl-session");
    /** Hop-by-hop headers of the API server's response, which the gateway's own connection to the client replaces. */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer",
            "proxy-authenticate", "proxy-authorization");
    /** Kubernetes reserves these names; nobody becomes a cluster component or a member of system:masters through us. */
    private static final String RESERVED_PREFIX = "system:";
    static final String IMPERSONATE_GROUP = "Impersonate-Group";

    private final Upstreams upstreams;
    private final GatewayConfig.Kubernetes config;
    /** How often an exec held for approval is reminded that it waits. */
    private final Duration noticeEvery;

    ApiProxy(Upstreams upstreams, GatewayConfig.Kubernetes config, Duration noticeEvery) {
        this.upstreams = upstreams;
        this.config = config;
        this.noticeEvery = noticeEvery;
    }

    void handle(HttpServerRequest req, ClientConnection client) {
        req.pause();
        long start = System.nanoTime();
        String raw = req.path();
        if (raw == null || !raw.startsWith(PREFIX) || raw.length() == PREFIX.length()) {
            reply(req, Status.notFound("Portcullis serves Kubernetes clusters at /k8s/<connection>/: set your kubeconfig's server"
                    + " to https://<gateway>/k8s/<connection> (dev-services/stack kube-login NAME writes one)"));
            return;
        }
        int slash = raw.indexOf('/', PREFIX.length());
        String cluster = slash < 0 ? raw.substring(PREFIX.length()) : raw.substring(PREFIX.length(), slash);
        String rawRest = slash < 0 ? "/" : raw.substring(slash);
        String uri = req.query() == null ? rawRest : rawRest + "?" + req.query();
        List<String> authorization = req.headers().getAll(HttpHeaders.AUTHORIZATION);
        if (authorization.size() != 1 || !authorization.get(0).regionMatches(true, 0, "Bearer ", 0, 7)
                || authorization.get(0).substring(7).isBlank()) {
            reply(req, Status.unauthorized("Portcullis needs exactly one Authorization: Bearer header with your OIDC access token;"
                    + " use a kubeconfig from dev-services/stack kube-login NAME, or kubectl --token"));
            return;
        }
        String token = authorization.get(0).substring(7).trim();
        ApiRequest api;
        try {
            api = ApiRequest.parse(req.method().name(), new URI(rawRest).getPath(), name -> req.params().getAll(name), uri);
        } catch (URISyntaxException e) {
            reply(req, Status.badRequest("Portcullis cannot read the request path: " + e.getReason()));
            return;
        } catch (ApiRequest.Malformed e) {
            reply(req, Status.badRequest("Portcullis cannot read this request: " + e.getMessage()));
            return;
        }
        client.session(token, cluster).whenComplete((session, failure) -> {
            if (failure != null) {
                reply(req, refusal(failure));
                return;
            }
            String reserved = reserved(session.identity());
            if (reserved != null) {
                reply(req, Status.forbidden(reserved));
                return;
            }
            // read only once the caller is known: nobody makes the gateway hold a body without a valid token
            RequestObject.read(req, api, config.maxObjectBytes()).whenComplete((read, unread) -> {
                if (unread != null) {
                    reply(req, unread instanceof RequestObject.TooLarge tooLarge
                            ? Status.failure(413, "RequestEntityTooLarge", tooLarge.getMessage())
                            : Status.badRequest("Portcullis could not read the request body"));
                    return;
                }
                ApiRequest judged = read.object() == null && read.error() == null ? api : api.withObject(read.object(), read.error());
                session.decide(judged).thenAccept(verdict -> decided(req, client, session, verdict, judged, uri, start, read.body(), null));
            });
        });
    }

    /**
     * @param body the request body, already read for the decision (a write's object), or null while it is to stream
     * @param held the exec that waited for approval with its client's side upgraded, or null
     */
    private void decided(HttpServerRequest req, ClientConnection client, Session session, Verdict verdict, ApiRequest api, String uri,
            long start, Buffer body, ExecRelay held) {
        if (verdict instanceof Verdict.Allow) {
            // decided first, so that a denial says why whatever the client's protocol; refused only once allowed
            String unsupported = unsupported(req, api);
            if (unsupported != null) {
                finish(session, verdict.seq(), 400, 0, start);
                reply(req, Status.badRequest(unsupported));
                return;
            }
            forward(req, client, session, verdict, api, uri, start, body, held);
        } else if (verdict instanceof Verdict.Held waiting) {
            ExecRelay exec = null;
            Future<Void> ready = Future.succeededFuture();
            if (api.connect() && !api.proxy() && api.input().portForward() == null && unsupported(req, api) == null) {
                // an exec is upgraded at once and told on its stderr that it waits; it can be told nothing before
                exec = new ExecRelay(req, client, session, waiting.seq(), start);
                ready = exec.hold(waiting, noticeEvery);
            } else {
                // any other request waits without a word (HTTP has no way to say it); the approvers see it
                req.response().closeHandler(v -> waiting.hold().withdraw("the client disconnected"));
            }
            ExecRelay upgraded = exec;
            Future<Void> upgrade = ready;
            waiting.outcome().thenAccept(outcome -> upgrade.onComplete(done -> {
                if (upgraded != null && upgraded.upgraded()) {
                    if (outcome instanceof Verdict.Allow) {
                        forward(req, client, session, outcome, api, uri, start, body, upgraded);
                    } else {
                        upgraded.refuse(403, ((Verdict.Deny) outcome).message("this request"));
                    }
                } else if (!req.response().closed()) {
                    decided(req, client, session, outcome, api, uri, start, body, null);
                }
            }));
        } else {
            reply(req, Status.forbidden(((Verdict.Deny) verdict).message("this request")));
        }
    }

    /** What the gateway cannot relay, said so the user knows what to do; null when it can. */
    private static String unsupported(HttpServerRequest req, ApiRequest api) {
        String upgrade = req.getHeader(HttpHeaders.UPGRADE);
        boolean webSocket = upgrade != null && upgrade.equalsIgnoreCase("websocket");
        String subresource = api.input().subresource();
        boolean portForward = api.connect() && "portforward".equals(subresource);
        if (api.proxy()) {
            // a plain HTTP call the API server passes on to the workload; an upgrade would be a stream the gateway cannot see
            return upgrade == null ? null : "Portcullis relays proxy requests as plain HTTP calls, not " + upgrade + " upgrades";
        }
        if (upgrade != null && !webSocket) {
            // a SPDY upgrade: kubectl uses one only when told to, or when its WebSocket upgrade failed
            return portForward
                    ? "Portcullis relays port-forward over WebSockets only (kubectl 1.31 or newer), not " + upgrade
                            + ": unset KUBECTL_PORT_FORWARD_WEBSOCKETS"
                    : "Portcullis relays exec and attach over WebSockets only (kubectl 1.30 or newer), not " + upgrade
                            + ": unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS";
        }
        boolean stream = "exec".equals(subresource) || "attach".equals(subresource) || portForward;
        if (api.connect() && !(webSocket && stream)) {
            return "Portcullis does not relay " + api.input().resource() + "/" + subresource + "; exec, attach and port-forward"
                    + " over WebSockets are supported";
        }
        if (webSocket && !api.connect()) {
            return "a WebSocket upgrade is only for exec, attach and port-forward";
        }
        return null;
    }

    private static String reserved(Identity identity) {
        if (identity.name().startsWith(RESERVED_PREFIX)) {
            return "Portcullis does not act as " + identity.name() + ": Kubernetes reserves names starting with system:";
        }
        for (String group : identity.groups()) {
            if (group.startsWith(RESERVED_PREFIX)) {
                return "Portcullis does not act with group " + group + ": Kubernetes reserves names starting with system:";
            }
        }
        return null;
    }

    private void forward(HttpServerRequest req, ClientConnection client, Session session, Verdict verdict, ApiRequest api, String uri,
            long start, Buffer body, ExecRelay held) {
        java.util.function.BiConsumer<Integer, String> refuse = held != null ? held::refuse
                : (code, message) -> reply(req, Status.failure(code, code == 403 ? "Forbidden" : "ServiceUnavailable", message));
        long seq = verdict.seq();
        Decision.ResponseMask mask = verdict.decision().mask();
        Upstreams.Lease lease;
        String secret;
        try {
            secret = session.unsealSecret();
            lease = upstreams.lease(session.connection(), secret);
        } catch (Upstreams.BadCredential e) {
            LOG.warnf("session %s: %s", session.id(), e.getMessage());
            refuse.accept(503, "Portcullis cannot call this cluster: " + e.getMessage() + "; ask an administrator");
            return;
        } catch (RuntimeException e) {
            LOG.errorf("session %s: cannot open the credential of connection %s: %s", session.id(), session.connection().name(),
                    e.getClass().getSimpleName());
            refuse.accept(503, "Portcullis cannot open the stored credential of this cluster; ask an administrator");
            return;
        }
        Upstreams.Clients clients = lease.clients();
        MultiMap headers = upstreamHeaders(req, session.identity(), clients.bearer() ? secret : null,
                Upstreams.impersonates(session.connection()), verdict.decision().impersonateGroups());
        List<String> groups = headers.getAll(IMPERSONATE_GROUP);
        boolean execOrAttach = api.connect() && !api.proxy() && api.input().portForward() == null;
        if (api.connect() && mask != null && !(execOrAttach && mask.fields().isEmpty())) {
            // a stream into a workload has no objects to mask, and only an exec's output has lines to scan: the policy
            // asked for what the gateway cannot do
            lease.release();
            finish(session, seq, 403, 0, start);
            refuse.accept(403, "Portcullis masks the responses of this request (rule " + mask.rule() + "), which a"
                    + " stream into a workload cannot be");
            return;
        }
        if (api.connect() && !api.proxy()) {
            headers.remove(HttpHeaders.CONTENT_LENGTH);
            if (api.input().portForward() != null) {
                new PortForwardRelay(req, client, session, api, seq, start, lease::release).start(clients.webSockets(), headers, uri);
            } else {
                ExecRelay exec = held != null ? held : new ExecRelay(req, client, session, seq, start);
                if (mask != null) {
                    exec.detect(detectors(mask));
                }
                exec.start(clients.webSockets(), headers, uri, lease::release);
            }
            return;
        }
        if (mask != null && !mask.detectors().isEmpty() && !api.log()) {
            // the detectors scan the lines a workload prints; any other response has a shape they would break
            lease.release();
            finish(session, seq, 403, 0, start);
            refuse.accept(403, "Portcullis runs the content detectors of rule " + mask.rule() + " over a container's log and an"
                    + " exec's output only, not over this request's response");
            return;
        }
        DetectedLogRelay detected = mask == null || mask.detectors().isEmpty() ? null : new DetectedLogRelay(detectors(mask));
        MaskedRelay masked = mask == null || mask.fields().isEmpty() ? null : new MaskedRelay(new ObjectMasker(mask),
                config.maxMaskedResponseBytes(), config.maxMaskedEventBytes());
        if (masked != null) {
            MaskedRelay.acceptJson(headers);
        }
        boolean streamBody = body == null && (req.headers().contains(HttpHeaders.CONTENT_LENGTH)
                || "chunked".equalsIgnoreCase(req.getHeader(HttpHeaders.TRANSFER_ENCODING))
                || req.version() == HttpVersion.HTTP_2 && mayHaveBody(req.method())); // HTTP/2 ends a body by its stream
        if (body != null) {
            headers.set(HttpHeaders.CONTENT_LENGTH, String.valueOf(body.length()));
        }
        // every way the call ends comes here once: the lease ends with it
        BiConsumer<Integer, Long> done = (code, bytes) -> {
            lease.release();
            finish(session, seq, code, bytes, start, groups, detected == null ? Set.of() : detected.fired());
        };
        clients.http().request(new RequestOptions().setMethod(req.method()).setURI(uri).setHeaders(headers)).onComplete(opened -> {
            if (opened.failed()) {
                LOG.infof("session %s: cannot reach the API server of %s: %s", session.id(), session.connection().name(),
                        opened.cause().getMessage());
                done.accept(502, 0L);
                reply(req, Status.badGateway("Portcullis cannot reach the API server of " + session.connection().name() + ": "
                        + opened.cause().getMessage()));
                return;
            }
            HttpClientRequest upstream = opened.result();
            req.response().closeHandler(v -> upstream.reset()); // the client went away: end the upstream call (a watch)
            if (streamBody && !req.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                upstream.setChunked(true);
            }
            if (!streamBody) {
                resumeUnlessRead(req);
            }
            (streamBody ? upstream.send(req) : body != null ? upstream.send(body) : upstream.send()).onComplete(answered -> {
                if (answered.failed()) {
                    done.accept(502, 0L);
                    if (!req.response().headWritten()) {
                        reply(req, Status.badGateway("the API server of " + session.connection().name() + " failed: "
                                + answered.cause().getMessage()));
                    }
                    return;
                }
                HttpClientResponse from = answered.result();
                if (detected != null) {
                    detected.relay(from, req.response(), done);
                } else if (masked == null) {
                    relay(from, req.response(), done);
                } else if ("watch".equals(api.input().verb())) {
                    masked.watch(from, req.response(), done);
                } else {
                    masked.whole(from, req.response(), done);
                }
            });
        });
    }

    private static Detectors detectors(Decision.ResponseMask mask) {
        return new Detectors(mask.detectors().stream().map(Detectors.Kind::of).collect(Collectors.toSet()));
    }

    /** Whether an HTTP/2 request without a Content-Length may still carry a body that is to be streamed on. */
    private static boolean mayHaveBody(HttpMethod method) {
        return !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD) && !method.equals(HttpMethod.OPTIONS);
    }

    /** The API server's response, streamed: the client's slowness pauses the API server's connection, never buffers. */
    private static void relay(HttpClientResponse from, HttpServerResponse to, BiConsumer<Integer, Long> done) {
        to.setStatusCode(from.statusCode());
        from.headers().forEach(h -> {
            if (!HOP_BY_HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                to.headers().add(h.getKey(), h.getValue());
            }
        });
        if (!from.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            to.setChunked(true);
        }
        stream(from, to, done, chunk -> chunk, Buffer::buffer);
    }

    /**
     * Streams the response's body to the client under backpressure, each chunk through {@code each} and {@code last}'s
     * bytes at the end; {@code done} gets the status and the bytes the client was sent, once.
     */
    static void stream(HttpClientResponse from, HttpServerResponse to, BiConsumer<Integer, Long> done, UnaryOperator<Buffer> each,
            Supplier<Buffer> last) {
        long[] sent = {0};
        boolean[] ended = {false};
        from.handler(chunk -> {
            Buffer out = each.apply(chunk);
            if (out.length() > 0) {
                sent[0] += out.length();
                to.write(out);
                if (to.writeQueueFull()) {
                    from.pause();
                    to.drainHandler(v -> from.resume());
                }
            }
        });
        from.endHandler(v -> {
            if (!ended[0]) {
                ended[0] = true;
                Buffer rest = last.get();
                sent[0] += rest.length();
                to.end(rest);
                done.accept(from.statusCode(), sent[0]);
            }
        });
        from.exceptionHandler(e -> {
            if (!ended[0]) {
                ended[0] = true;
                done.accept(from.statusCode(), sent[0]);
                to.reset();
            }
        });
    }

    /**
     * The headers the API server sees: the allowed client headers, the gateway's token if it has one, and who asks unless
     * the connection turned impersonation off (then the cluster sees the credential's own user, and each result records
     * {@code impersonated: false}). Of the identity's groups, only those the decision names are impersonated
     * ({@code impersonate_groups}): a decision without them names none, never all, and a group the identity does not
     * have or that Kubernetes reserves is never sent, whatever the policy says.
     */
    private static MultiMap upstreamHeaders(HttpServerRequest req, Identity identity, String bearer, boolean impersonate,
            List<String> decidedGroups) {
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        req.headers().forEach(h -> {
            if (FORWARDED_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                out.add(h.getKey(), h.getValue());
            }
        });
        if (bearer != null) {
            out.set(HttpHeaders.AUTHORIZATION, "Bearer " + bearer.trim());
        }
        if (impersonate) {
            out.set("Impersonate-User", identity.name());
            for (String group : decidedGroups) {
                if (identity.groups().contains(group) && !group.startsWith(RESERVED_PREFIX)) {
                    out.add(IMPERSONATE_GROUP, group);
                }
            }
        }
        return out;
    }

    /** Records the result of a request that never reached the cluster, so impersonated no group. */
    static void finish(Session session, long seq, int code, long bytes, long start) {
        finish(session, seq, code, bytes, start, List.of());
    }

    /**
     * Records the result; {@code impersonated} says whether the cluster saw the identity or the connection's credential,
     * {@code impersonated_groups} which groups the gateway sent with it.
     */
    static void finish(Session session, long seq, int code, long bytes, long start, List<String> groups) {
        finish(session, seq, code, bytes, start, groups, Set.of());
    }

    /** The same, with the detectors that found something in what the workload printed (a log, an exec's output). */
    static void finish(Session session, long seq, int code, long bytes, long start, List<String> groups, Set<Detectors.Kind> detected) {
        session.result(new dev.portcullis.gateway.session.RequestResult(seq, code < 400, bytes, (System.nanoTime() - start) / 1000,
                List.of(), Set.copyOf(detected), details(session, code, groups)));
    }

    /** What every result of a Kubernetes request records of how the cluster was called. */
    static Map<String, Object> details(Session session, int code, List<String> groups) {
        return Map.of("code", code, "impersonated", Upstreams.impersonates(session.connection()), "impersonated_groups",
                List.copyOf(groups));
    }

    private static Buffer refusal(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof ClientConnection.TooManySessions) {
            return Status.badRequest(cause.getMessage());
        }
        if (!(cause instanceof SessionRefused refused)) {
            LOG.errorf(cause, "opening a Kubernetes session failed");
            return Status.unavailable("Portcullis could not set up the session (internal error); try again later");
        }
        return switch (refused.reason()) {
            case AUTHENTICATION -> Status.unauthorized(refused.getMessage() + "; get a fresh token (dev-services/stack kube-login"
                    + " writes a kubeconfig that fetches one)");
            case UNKNOWN_CONNECTION, WRONG_PROTOCOL -> Status.notFound(refused.getMessage());
            case DENIED, WRONG_USER -> Status.forbidden(refused.getMessage());
            case CREDENTIALS, UNAVAILABLE -> Status.unavailable(refused.getMessage());
        };
    }

    /**
     * Lets the rest of a request's body flow (to be dropped or passed on), unless it was read whole already for the
     * decision: an HTTP/2 request that has ended refuses a resume, where HTTP/1.1 ignores it.
     */
    private static void resumeUnlessRead(HttpServerRequest req) {
        if (!req.isEnded()) {
            req.resume();
        }
    }

    /** The gateway's own answer; the client's body, if any, is read and dropped so the connection can go on. */
    static void reply(HttpServerRequest req, Buffer status) {
        resumeUnlessRead(req);
        HttpServerResponse response = req.response();
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(Status.code(status)).putHeader(HttpHeaders.CONTENT_TYPE, Status.CONTENT_TYPE).end(status);
    }
}
