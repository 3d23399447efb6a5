package dev.portcullis.gateway.policy;

import dev.portcullis.gateway.GatewayConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jboss.logging.Logger;

/**
 * Which policies OPA is running now. The revision is the bundle manifests' revisions plus a digest of the
 * loaded Rego modules, so even a bundle whose manifest revision was not bumped changes it. The manifests are polled
 * at a third of the configured bound; the modules when the manifests change and otherwise every
 * {@link #MODULES_EVERY}th poll, because OPA answers {@code /v1/policies} with every module's source and syntax tree
 * (680 KB for the default policies, about 90 ms of OPA's CPU), which at every poll cost OPA and the gateway a few
 * percent of a core each. {@link #current()} is null while the revision is unknown or too old to trust, which makes
 * the decision cache step aside.
 */
@ApplicationScoped
public class PolicyRevision {
    private static final Logger LOG = Logger.getLogger(PolicyRevision.class);

    private final Vertx vertx;
    private final GatewayConfig.Opa config;
    private WebClient http;
    private long timerId = -1;
    /** A module change without a new manifest revision is seen within this many polls (17 s by default). */
    static final int MODULES_EVERY = 10;

    private volatile String revision;
    private volatile long readAtNanos;
    // written by refresh()'s callbacks, one poll at a time (a poll times out before the next starts); volatile because
    // the first poll starts on the startup thread and the others on a timer's event loop
    private volatile long polls;
    private volatile String manifests;
    private volatile String modules;

    PolicyRevision(Vertx vertx, GatewayConfig config) {
        this.vertx = vertx;
        this.config = config.opa();
    }

    void start(@Observes StartupEvent event) {
        http = WebClient.create(vertx);
        long period = Math.max(100, config.revisionMaxAge().toMillis() / 3);
        refresh();
        timerId = vertx.setPeriodic(period, id -> refresh());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }

    /** The revision in force, or null when it has not been read within the bound. */
    public String current() {
        String r = revision;
        if (r == null || System.nanoTime() - readAtNanos > config.revisionMaxAge().toNanos()) {
            return null;
        }
        return r;
    }

    void refresh() {
        String base = config.url();
        long timeout = config.revisionMaxAge().toMillis() / 3;
        http.getAbs(base + "/v1/data/system/bundles").timeout(timeout).send().onComplete(bundles -> {
            if (bundles.failed() || bundles.result().statusCode() != 200) {
                // OPA is unreachable or broken: stop trusting cached decisions now rather than at the bound.
                revision = null;
                modules = null; // an OPA that comes back may run other modules: read them again first
                LOG.debugf("cannot read the OPA bundle revision: %s", bundles.failed() ? bundles.cause() : bundles.result().statusCode());
                return;
            }
            String nextManifests = manifests(bundles.result().bodyAsJsonObject());
            if (nextManifests.equals(manifests) && modules != null && ++polls % MODULES_EVERY != 0) {
                settle(nextManifests, modules);
                return;
            }
            http.getAbs(base + "/v1/policies").timeout(timeout).send().onComplete(policies -> {
                if (policies.failed() || policies.result().statusCode() != 200) {
                    return;
                }
                settle(nextManifests, digest(policies.result().body()));
            });
        });
    }

    private void settle(String nextManifests, String nextModules) {
        manifests = nextManifests;
        modules = nextModules;
        String next = nextManifests + "+" + nextModules;
        if (!next.equals(revision)) {
            LOG.infof("policy revision is now %s", next);
        }
        revision = next;
        readAtNanos = System.nanoTime();
    }

    private static String manifests(io.vertx.core.json.JsonObject body) {
        var result = body.getJsonObject("result");
        if (result == null) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        result.fieldNames().stream().sorted().forEach(name -> {
            var manifest = result.getJsonObject(name).getJsonObject("manifest");
            sb.append(sb.isEmpty() ? "" : ",").append(manifest == null ? "?" : manifest.getString("revision", "?"));
        });
        return sb.toString();
    }

    private static String digest(Buffer body) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(body == null ? new byte[0] : body.getBytes());
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
