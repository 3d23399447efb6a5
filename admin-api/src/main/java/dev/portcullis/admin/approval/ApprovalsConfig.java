package dev.portcullis.admin.approval;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/** Just-in-time approvals: their expiry and the webhook that reports them. */
@ConfigMapping(prefix = "portcullis.admin.approvals")
public interface ApprovalsConfig {

    /**
     * How often pending requests past their expiry are marked {@code expired}. The gateway holding a request expires
     * it on time itself; this catches the requests whose gateway is gone. At least 1 s.
     */
    @WithDefault("5s")
    Duration sweepInterval();

    Webhook webhook();

    /** Slack-compatible notifications of every new request, vote and outcome (see WebhookDispatcher). */
    interface Webhook {
        /**
         * Where to POST them. Unset: nothing is sent, and notifications stay in {@code approval_notifications},
         * undelivered. Treat it as a secret: an incoming-webhook URL usually carries a token (it is never logged).
         */
        Optional<URI> url();

        /**
         * The HMAC-SHA256 key of the {@code X-Portcullis-Signature} header: at least 32 characters. Required with
         * {@code url}; the app refuses to start without it. Never logged or returned.
         */
        Optional<String> secret();

        /** After this many failed attempts a notification is given up: kept, with its last error, never deleted. */
        @WithDefault("20")
        int maxAttempts();

        /** The pause after the first failure; it doubles with every further failure, up to {@code max-backoff}. */
        @WithDefault("1s")
        Duration initialBackoff();

        @WithDefault("5m")
        Duration maxBackoff();

        /** How long one POST may take, connecting included. */
        @WithDefault("5s")
        Duration timeout();

        /** How often the outbox is looked at; at least 1 s (the scheduler's finest step). */
        @WithDefault("1s")
        Duration pollInterval();

        /** Notifications sent in one transaction (their rows stay locked until it ends). */
        @WithDefault("20")
        int batchSize();
    }
}
