package dev.portcullis.gateway.policy;

import dev.portcullis.gateway.GatewayConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Which policies OPA is running now: the revision in its bundle's manifest, read from {@code /v1/data/system/bundles}
 * at a third of {@code portcullis.opa.revision-max-age}. The build sets that revision ({@code policies-rego/check
 * --stamp} writes a digest of the served files into the manifest, {@code opa build} keeps it, and the check fails
 * while it does not match the files), so it is equal on every poll and on every replica that runs the same bundle,
 * and it changes whenever what OPA serves changes.
 * <p>
 * {@link #current()} is null, which makes the decision cache step aside, while the revision is unknown: before the
 * first answer; at once when OPA cannot be reached or answers anything but a bundle list; when a bundle has no
 * revision (nothing would then tell its policies apart); and when the last answer is older than the bound.
 */
@ApplicationScoped
public class PolicyRevision {
    private static final Logger LOG = Logger.getLogger(PolicyRevision.class);

    private final Vertx vertx;
    private final GatewayConfig.Opa config;
    private final WebClient http;
    private long timerId = -1;

    // written by refresh()'s callbacks on an event loop, read by any thread
    private volatile String revision;
    private volatile long readAtNanos;
    /** Why the revision is unknown, when it is; logged once per change. */
    private volatile String unknownBecause;
    /** When this replica first saw the revision in force (null while unknown). */
    private volatile java.time.Instant loadedAt;

    PolicyRevision(Vertx vertx, GatewayConfig config) {
        this.vertx = vertx;
        this.config = config.opa();
        // Built here, not at startup, so that a poll never meets a missing client.
        this.http = WebClient.create(vertx);
    }

    void start(@Observes StartupEvent event) {
        long period = Math.max(100, config.revisionMaxAge().toMillis() / 3);
        refresh();
        timerId = vertx.setPeriodic(period, id -> refresh());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }

    /** The revision in force, or null when it is unknown or has not been read within the bound. */
    public String current() {
        String r = revision;
        if (r == null || System.nanoTime() - readAtNanos > config.revisionMaxAge().toNanos()) {
            return null;
        }
        return r;
    }

    /** One poll of OPA's bundle revision; the future completes once its answer is taken in, and never fails. */
    Future<Void> refresh() {
        long timeout = Math.max(1, config.revisionMaxAge().toMillis() / 3);
        return http.getAbs(config.url() + "/v1/data/system/bundles").timeout(timeout).send().transform(answer -> {
            if (answer.failed()) {
                unknown("OPA is unreachable: " + answer.cause());
            } else if (answer.result().statusCode() != 200) {
                unknown("OPA answered HTTP " + answer.result().statusCode() + " for its bundles");
            } else {
                JsonObject body;
                try {
                    body = answer.result().bodyAsJsonObject();
                } catch (RuntimeException e) {
                    body = null;
                }
                try {
                    known(revisionOf(body));
                } catch (IllegalArgumentException e) {
                    unknown(e.getMessage());
                }
            }
            return Future.succeededFuture();
        });
    }

    /**
     * The revision of OPA's bundles ({@code {"result": {"<bundle>": {"manifest": {"revision": ...}}}}}): the one
     * bundle's revision, or, with several, their revisions in the order of the bundles' names, joined by commas.
     *
     * @throws IllegalArgumentException naming what is wrong: not a bundle list, no bundle, a bundle without a revision
     */
    static String revisionOf(JsonObject body) {
        if (body == null || !(body.getValue("result") instanceof JsonObject bundles)) {
            throw new IllegalArgumentException("OPA's answer is not a bundle list");
        }
        if (bundles.isEmpty()) {
            throw new IllegalArgumentException("OPA runs no bundle");
        }
        List<String> revisions = new ArrayList<>(bundles.size());
        for (String name : bundles.fieldNames().stream().sorted().toList()) {
            Object manifest = bundles.getValue(name) instanceof JsonObject bundle ? bundle.getValue("manifest") : null;
            Object r = manifest instanceof JsonObject m ? m.getValue("revision") : null;
            if (!(r instanceof String s) || s.isBlank()) {
                throw new IllegalArgumentException("bundle " + name + " has no revision in its manifest (run policies-rego/check --stamp)");
            }
            revisions.add(s);
        }
        return String.join(",", revisions);
    }

    /** When this replica first read the revision in force, or null while it is unknown. */
    public java.time.Instant loadedAt() {
        return current() == null ? null : loadedAt;
    }

    /** Why the revision is unknown (OPA unreachable, no revision...), or null when it is known. */
    public String problem() {
        String why = unknownBecause;
        if (why == null && current() == null) {
            return revision == null ? "not read from OPA yet" : "not read from OPA within " + config.revisionMaxAge();
        }
        return why;
    }

    private void known(String next) {
        if (!next.equals(revision)) {
            LOG.infof("policy revision is now %s", next);
            loadedAt = java.time.Instant.now();
        }
        revision = next;
        readAtNanos = System.nanoTime();
        unknownBecause = null;
    }

    /** Cached decisions are not served from now on: they might come from other policies than OPA's next answers. */
    private void unknown(String why) {
        revision = null;
        if (!why.equals(unknownBecause)) {
            LOG.warnf("policy revision unknown, decisions are not cached: %s", why);
        }
        unknownBecause = why;
    }
}
