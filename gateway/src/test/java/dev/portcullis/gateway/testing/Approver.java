package dev.portcullis.gateway.testing;

import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * An approver, played by writing in the stack's real PostgreSQL what the admin API writes when a person votes (a vote,
 * the request's new state and its webhook notification, in one transaction), so the gateway's tests need no admin API
 * process; the NOTIFY that reaches the gateway is PostgreSQL's own.
 */
public final class Approver {
    private Approver() {
    }

    private static Connection db() throws SQLException {
        return TestStack.superuser(TestStack.get("PORTCULLIS_DB"));
    }

    /** What the gateway under test calls itself in approval requests (its ReplicaId). */
    public static String thisGateway(int pgPort) throws Exception {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            host = InetAddress.getLocalHost().getHostName();
        }
        return host + ":" + pgPort;
    }

    /** A pending request as a gateway writes one, held by {@code gateway}. */
    public static void insertPending(UUID id, String gateway) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO approval_requests (id, expires_at, session_id, request_seq, gateway, identity_subject, connection_name,
                  connection_type, protocol, summary, request, policy, reasons, approver_groups, min_approvals)
                VALUES (?, now() + interval '10 minutes', ?, 2, ?, 'alice', 'gw-policy-prod', 'postgres', 'postgres',
                  'DELETE FROM policy_users', '{}', 'pg/destructive-on-prod', '["test"]', '["approvers"]', 1)
                ON CONFLICT (id) DO UPDATE SET state = 'pending', gateway = excluded.gateway""")) {
            ps.setObject(1, id);
            ps.setObject(2, UUID.randomUUID());
            ps.setString(3, gateway);
            ps.executeUpdate();
        }
    }

    public static String state(UUID id) throws SQLException {
        return (String) request(id).get("state");
    }

    /** The request's row, column by column. */
    public static Map<String, Object> request(UUID id) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement("SELECT * FROM approval_requests WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("no approval request " + id);
                }
                Map<String, Object> row = new LinkedHashMap<>();
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    Object v = rs.getObject(i);
                    row.put(md.getColumnName(i), v instanceof java.sql.Timestamp ? rs.getObject(i, java.time.OffsetDateTime.class) : v);
                }
                return row;
            }
        }
    }

    /** The pending request of a session, once the gateway has stored it. */
    public static UUID awaitPending(String sessionId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM approval_requests WHERE session_id = ? AND state = 'pending'")) {
                ps.setObject(1, UUID.fromString(sessionId));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return rs.getObject(1, UUID.class);
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("session " + sessionId + " has no pending approval request after 30 s");
    }

    /** The state the request ended in, once it is no longer pending. */
    public static String awaitEnded(UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String state;
        while ("pending".equals(state = state(id)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return state;
    }

    public static void approve(UUID id, String approver, String comment) throws SQLException {
        decide(id, approver, "approve", comment, "approved", null);
    }

    public static void deny(UUID id, String approver, String comment) throws SQLException {
        decide(id, approver, "deny", comment, "denied", "denied by " + approver + ": " + comment);
    }

    private static void decide(UUID id, String approver, String verdict, String comment, String state, String outcome)
            throws SQLException {
        try (Connection c = db()) {
            c.setAutoCommit(false);
            try (PreparedStatement vote = c.prepareStatement(
                    "INSERT INTO approval_votes (request_id, approver_subject, approver_name, verdict, comment) VALUES (?, ?, ?, ?, ?)");
                    PreparedStatement end = c.prepareStatement(
                            "UPDATE approval_requests SET state = ?, outcome = ?, decided_at = now() WHERE id = ? AND state = 'pending'");
                    PreparedStatement notify = c.prepareStatement("INSERT INTO approval_notifications (request_id, event) VALUES (?, ?)")) {
                vote.setObject(1, id);
                vote.setString(2, approver);
                vote.setString(3, approver);
                vote.setString(4, verdict);
                vote.setString(5, comment);
                vote.executeUpdate();
                end.setString(1, state);
                end.setString(2, outcome);
                end.setObject(3, id);
                if (end.executeUpdate() != 1) {
                    throw new AssertionError("approval request " + id + " was not pending");
                }
                notify.setObject(1, id);
                notify.setString(2, state);
                notify.executeUpdate();
            }
            c.commit();
        }
    }

    /** What the admin API's sweeper does to a pending request past its expiry. */
    public static void expire(UUID id) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                "UPDATE approval_requests SET state = 'expired', outcome = 'it expired', decided_at = now() WHERE id = ? AND state = 'pending'")) {
            ps.setObject(1, id);
            ps.executeUpdate();
        }
    }

    public static UUID grant(String subject, String connection, String scope, Duration ttl) throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO grants (id, identity_subject, connection_name, scope, expires_at) VALUES (?, ?, ?, ?, now() + ?::interval)")) {
            ps.setObject(1, id);
            ps.setString(2, subject);
            ps.setString(3, connection);
            ps.setString(4, scope);
            ps.setString(5, ttl.toSeconds() + " seconds");
            ps.executeUpdate();
        }
        return id;
    }

    /** Every grant the identity has on the connection ends now (a test starts from none). */
    public static void revokeAll(String subject, String connection) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                "UPDATE grants SET revoked_at = now(), revoked_by = 'test' WHERE identity_subject = ? AND connection_name = ? AND revoked_at IS NULL")) {
            ps.setString(1, subject);
            ps.setString(2, connection);
            ps.executeUpdate();
        }
    }

    public static void revoke(UUID grant) throws SQLException {
        try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
                "UPDATE grants SET revoked_at = now(), revoked_by = 'carol' WHERE id = ?")) {
            ps.setObject(1, grant);
            ps.executeUpdate();
        }
    }
}
