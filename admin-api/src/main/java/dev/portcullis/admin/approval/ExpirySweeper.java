package dev.portcullis.admin.approval;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.Scheduler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Ends pending requests past their expiry as {@code expired}, with their webhook notification. The gateway holding a
 * request does this itself on time; this catches the requests whose gateway is gone, so that none stays pending
 * forever. Rows another transaction holds (a vote, that gateway) are skipped and looked at again next time.
 */
@ApplicationScoped
public class ExpirySweeper {
    private static final Logger LOG = Logger.getLogger(ExpirySweeper.class);
    /** Requests ended per transaction; the next run takes the rest. */
    private static final int BATCH = 100;

    private final AgroalDataSource db;
    private final ApprovalsConfig config;

    ExpirySweeper(AgroalDataSource db, ApprovalsConfig config) {
        this.db = db;
        this.config = config;
    }

    void start(@Observes StartupEvent startup, Scheduler scheduler) {
        scheduler.newJob("approval-expiry")
                .setInterval(config.sweepInterval().toString())
                .setConcurrentExecution(Scheduled.ConcurrentExecution.SKIP)
                .setTask(execution -> {
                    try {
                        sweep();
                    } catch (SQLException | RuntimeException e) {
                        LOG.warnf("approval expiry: stopped early, the next run goes on: %s", e.getMessage());
                    }
                })
                .schedule();
    }

    /** @return how many requests were ended */
    public int sweep() throws SQLException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            int expired = 0;
            try (PreparedStatement due = c.prepareStatement("""
                    SELECT id, expires_at FROM approval_requests
                     WHERE state = 'pending' AND expires_at <= clock_timestamp()
                     ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED""");
                    PreparedStatement end = c.prepareStatement("""
                            UPDATE approval_requests SET state = 'expired', decided_at = clock_timestamp(), outcome = ?
                             WHERE id = ? AND state = 'pending'""");
                    PreparedStatement notify = c.prepareStatement(
                            "INSERT INTO approval_notifications (request_id, event) VALUES (?, 'expired')")) {
                due.setInt(1, BATCH);
                try (ResultSet rs = due.executeQuery()) {
                    while (rs.next()) {
                        UUID id = rs.getObject(1, UUID.class);
                        end.setString(1, ApprovalRequestEntity.expiredOutcome(rs.getObject(2, OffsetDateTime.class)));
                        end.setObject(2, id);
                        end.executeUpdate();
                        notify.setObject(1, id);
                        notify.executeUpdate();
                        expired++;
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            if (expired > 0) {
                LOG.infof("approval expiry: %d pending request(s) past their expiry ended as expired", expired);
            }
            return expired;
        }
    }
}
