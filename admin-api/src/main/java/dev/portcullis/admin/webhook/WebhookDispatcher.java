package dev.portcullis.admin.webhook;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.admin.approval.ApprovalsConfig;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Drains the webhook outbox ({@code approval_notifications}): POSTs each notification, signed, to
 * {@code portcullis.admin.approvals.webhook.url}, in order per request, retrying with exponential backoff.
 * <ul>
 * <li>Several replicas share the outbox: a batch is picked {@code FOR UPDATE SKIP LOCKED} and its rows stay locked
 *     until their outcome is written, so no two replicas send one notification at the same time.</li>
 * <li>Order per request: a notification is due only when no earlier one of its request is still to be sent. One that
 *     gave up (after {@code max-attempts}) no longer holds the later ones back; it is kept with its last error and
 *     shown by {@code GET /approvals/{id}}, never deleted.</li>
 * <li>A receiver that is down delays only the webhook: votes and the requests' states live in the tables. A
 *     notification is sent at least once; a receiver drops a repeat by {@code X-Portcullis-Delivery}.</li>
 * </ul>
 * Without a URL nothing runs and the notifications stay undelivered (nothing is marked sent that was not); once a URL
 * is set, the backlog is sent in order.
 */
@ApplicationScoped
public class WebhookDispatcher {
    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class);
    private static final int MIN_SECRET_CHARS = 32;
    /** Batches per scheduled run: enough to send a request's created, vote and outcome at once; bounded all the same. */
    private static final int MAX_BATCHES_PER_RUN = 10;
    private static final int MAX_ERROR_CHARS = 500;
    private static final int MAX_ANSWER_BYTES = 200;
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    /** The oldest undelivered, not given-up notification of each request, if its retry is due. */
    private static final String PICK = """
            SELECT n.id, n.event, n.created_at, n.attempts, r.id, r.identity_subject, r.identity_name, r.connection_name,
                   r.connection_type, r.protocol, r.summary, r.policy, r.approver_groups::text, r.min_approvals,
                   (SELECT count(*) FROM approval_votes a
                     WHERE a.request_id = r.id AND a.verdict = 'approve' AND a.at <= n.created_at),
                   r.created_at, r.expires_at, r.grant_scope, r.grant_ttl_s, r.outcome,
                   v.approver_subject, v.approver_name, v.verdict, v.comment
              FROM approval_notifications n
              JOIN approval_requests r ON r.id = n.request_id
              LEFT JOIN approval_votes v ON v.request_id = n.request_id AND v.at = n.created_at
                                        AND n.event IN ('vote', 'approved', 'denied')
             WHERE n.delivered_at IS NULL AND n.attempts < ? AND n.next_attempt_at <= now()
               AND NOT EXISTS (SELECT 1 FROM approval_notifications e
                                WHERE e.request_id = n.request_id AND e.id < n.id
                                  AND e.delivered_at IS NULL AND e.attempts < ?)
             ORDER BY n.id
             LIMIT ?
               FOR UPDATE OF n SKIP LOCKED""";

    private final ApprovalsConfig.Webhook config;
    private final AgroalDataSource db;
    private final ObjectMapper json;
    private HttpClient http;
    private URI url;
    private String secret;
    private long lastWarning = System.nanoTime() - WARN_EVERY_NANOS - 1;

    WebhookDispatcher(ApprovalsConfig config, AgroalDataSource db, ObjectMapper json) {
        this.config = config.webhook();
        this.db = db;
        this.json = json;
    }

    void start(@Observes StartupEvent startup, Scheduler scheduler) {
        if (config.url().isEmpty()) {
            LOG.info("approval webhook: portcullis.admin.approvals.webhook.url is not set; approval notifications stay"
                    + " undelivered in approval_notifications");
            return;
        }
        url = config.url().get();
        if (!"https".equals(url.getScheme()) && !"http".equals(url.getScheme()) || url.getHost() == null) {
            throw new IllegalStateException("portcullis.admin.approvals.webhook.url must be an http(s) URL with a host");
        }
        secret = config.secret().filter(s -> s.length() >= MIN_SECRET_CHARS).orElseThrow(() -> new IllegalStateException(
                "portcullis.admin.approvals.webhook.secret must be set, at least " + MIN_SECRET_CHARS + " characters, when"
                        + " portcullis.admin.approvals.webhook.url is: receivers check every message's signature with it."
                        + " Generate one with: openssl rand -hex 32"));
        if (config.maxAttempts() < 1 || config.batchSize() < 1) {
            throw new IllegalStateException("portcullis.admin.approvals.webhook.max-attempts and batch-size must be at least 1");
        }
        http = HttpClient.newBuilder().connectTimeout(config.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
        LOG.infof("approval webhook: sending notifications to %s (the rest of the URL is not logged)", receiver());
        scheduler.newJob("approval-webhook")
                .setInterval(config.pollInterval().toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> drain())
                .schedule();
    }

    /** Sends what is due, batch after batch, until a batch delivers nothing. */
    void drain() {
        try {
            for (int i = 0; i < MAX_BATCHES_PER_RUN && deliverBatch() > 0; i++) {
                // the next batch holds the notifications that waited behind the ones just delivered
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("approval webhook: the outbox could not be read or updated, the next run goes on: %s", e.getMessage());
        }
    }

    /** @return how many notifications were delivered */
    int deliverBatch() throws SQLException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<Notice> due = pick(c);
                int delivered = 0;
                List<String> errors = new ArrayList<>();
                for (Notice notice : due) {
                    String error = send(notice);
                    if (error == null) {
                        delivered(c, notice);
                        delivered++;
                    } else {
                        failed(c, notice, error);
                        errors.add(error);
                    }
                }
                c.commit();
                if (!errors.isEmpty()) {
                    // while a receiver is down every run fails: say so once a minute, not every second
                    long now = System.nanoTime();
                    boolean loud = now - lastWarning > WARN_EVERY_NANOS;
                    if (loud) {
                        lastWarning = now;
                    }
                    LOG.logf(loud ? Logger.Level.WARN : Logger.Level.DEBUG, "approval webhook: %d of %d notification(s)"
                            + " not delivered to %s (%s); each is retried with a growing pause", errors.size(), due.size(),
                            receiver(), errors.get(0));
                }
                return delivered;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private List<Notice> pick(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(PICK)) {
            s.setInt(1, config.maxAttempts());
            s.setInt(2, config.maxAttempts());
            s.setInt(3, config.batchSize());
            List<Notice> due = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    due.add(new Notice(rs.getLong(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class), rs.getInt(4),
                            rs.getObject(5, UUID.class), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                            rs.getString(10), rs.getString(11), rs.getString(12), strings(rs.getString(13)), rs.getInt(14),
                            rs.getInt(15), rs.getObject(16, OffsetDateTime.class), rs.getObject(17, OffsetDateTime.class),
                            rs.getString(18), (Integer) rs.getObject(19), rs.getString(20), rs.getString(21),
                            rs.getString(22), rs.getString(23), rs.getString(24)));
                }
            }
            return due;
        }
    }

    /** @return null when the receiver took it (2xx), else why not */
    private String send(Notice notice) {
        byte[] body = WebhookMessage.body(notice, json);
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(config.timeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "Portcullis-Webhook")
                .header("X-Portcullis-Delivery", Long.toString(notice.id()))
                .header("X-Portcullis-Event", notice.event())
                .header("X-Portcullis-Signature", WebhookMessage.signature(body, secret))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            // only the start of an answer is kept (as last_error): a receiver cannot make this replica read more
            String answer;
            try (InputStream in = response.body()) {
                answer = new String(in.readNBytes(MAX_ANSWER_BYTES), StandardCharsets.UTF_8).strip();
            }
            if (response.statusCode() / 100 == 2) {
                return null;
            }
            return "the receiver answered HTTP " + response.statusCode() + (answer.isEmpty() ? "" : ": " + answer);
        } catch (HttpTimeoutException e) {
            return "the receiver did not answer within " + config.timeout().toMillis() + " ms";
        } catch (ConnectException e) {
            return "the receiver refused the connection or cannot be reached";
        } catch (IOException e) {
            return "sending failed: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "sending was interrupted (the app is stopping)";
        }
    }

    private static void delivered(Connection c, Notice notice) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                UPDATE approval_notifications SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
                 WHERE id = ?""")) {
            s.setLong(1, notice.id());
            s.executeUpdate();
        }
    }

    private void failed(Connection c, Notice notice, String error) throws SQLException {
        int attempts = notice.attempts() + 1;
        try (PreparedStatement s = c.prepareStatement("""
                UPDATE approval_notifications
                   SET attempts = ?, last_error = ?, next_attempt_at = now() + ? * interval '1 millisecond'
                 WHERE id = ?""")) {
            s.setInt(1, attempts);
            s.setString(2, error.length() > MAX_ERROR_CHARS ? error.substring(0, MAX_ERROR_CHARS) : error);
            s.setLong(3, backoff(notice.attempts()).toMillis());
            s.setLong(4, notice.id());
            s.executeUpdate();
        }
        if (attempts >= config.maxAttempts()) {
            LOG.errorf("approval webhook: gave up notification %d (%s of request %s) after %d attempts: %s. It is kept in"
                    + " approval_notifications; the request's state is not affected", notice.id(), notice.event(),
                    notice.requestId(), attempts, error);
        }
    }

    /** The pause after the {@code failures + 1}-th failure: the initial backoff doubled each time, capped. */
    Duration backoff(int failures) {
        Duration pause = config.initialBackoff().multipliedBy(1L << Math.min(failures, 30));
        return pause.compareTo(config.maxBackoff()) > 0 ? config.maxBackoff() : pause;
    }

    /** The receiver's host and port: the rest of the URL may carry a token, so it is never logged. */
    private String receiver() {
        return url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
    }

    private List<String> strings(String jsonArray) {
        try {
            return json.readValue(jsonArray, STRINGS);
        } catch (IOException e) {
            return List.of();
        }
    }
}
