package dev.portcullis.admin.approval;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Creates held requests in the stack's real PostgreSQL exactly as the gateway does when portcullis/request answers
 * with an approval: an approval_requests row and its 'created' notification, in one transaction. The columns are the
 * ones the admin API reads (README "Approvals": what the gateway writes). Every test uses a connection name of its own,
 * so tests never see each other's requests; {@link #deleteAll()} removes them with their votes and notifications.
 */
final class HeldRequests {
    /** The held request's part of a decision input, as the gateway records it. */
    static final String DELETE_ALL_ORDERS = """
            {"protocol": "postgres", "message": "query", "parse_error": null, "statements": [{"command": "DELETE",
             "tables": [{"schema": null, "name": "orders", "access": "write"}], "functions": [], "has_where": false,
             "normalized": "DELETE FROM orders", "via": null, "copy": null, "set_parameter": null, "prepared_name": null}]}""";

    private final DataSource db;
    private final List<UUID> created = new ArrayList<>();

    HeldRequests(DataSource db) {
        this.db = db;
    }

    /** What the request looks like; the rest is fixed (alice's DELETE FROM orders on a production connection). */
    record Held(String requester, String requesterGroups, String connection, String approverGroups, int minApprovals,
            int expiresInS, String grantScope, Integer grantTtlS) {

        /** alice (dba, approvers) asks; approvers decide; one approval; ten minutes; no grant. */
        static Held byAlice(String connection) {
            return new Held("alice", "[\"dba\", \"approvers\"]", connection, "[\"approvers\"]", 1, 600, null, null);
        }

        Held requester(String subject, String groupsJson) {
            return new Held(subject, groupsJson, connection, approverGroups, minApprovals, expiresInS, grantScope, grantTtlS);
        }

        Held approvers(String groupsJson, int min) {
            return new Held(requester, requesterGroups, connection, groupsJson, min, expiresInS, grantScope, grantTtlS);
        }

        Held expiresIn(int seconds) {
            return new Held(requester, requesterGroups, connection, approverGroups, minApprovals, seconds, grantScope, grantTtlS);
        }

        Held grant(String scope, int ttlS) {
            return new Held(requester, requesterGroups, connection, approverGroups, minApprovals, expiresInS, scope, ttlS);
        }
    }

    UUID create(Held h) throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement request = c.prepareStatement("""
                    INSERT INTO approval_requests (id, expires_at, session_id, request_seq, gateway, identity_subject,
                        identity_name, identity_groups, identity_kind, connection_name, connection_type, connection_tags,
                        protocol, summary, request_text, request, policy, reasons, approver_groups, min_approvals,
                        grant_scope, grant_ttl_s)
                    VALUES (?, now() + make_interval(secs => ?), ?, 7, 'gw-test', ?, ?, ?::jsonb, 'human', ?, 'postgres',
                        '{"env": "prod"}'::jsonb, 'postgres', 'DELETE FROM orders', 'DELETE FROM orders', ?::jsonb,
                        'pg/destructive-on-prod', ?::jsonb, ?::jsonb, ?, ?, ?)""");
                    PreparedStatement notification = c.prepareStatement(
                            "INSERT INTO approval_notifications (request_id, event) VALUES (?, 'created')")) {
                request.setObject(1, id);
                request.setInt(2, h.expiresInS());
                request.setObject(3, UUID.randomUUID());
                request.setString(4, h.requester());
                request.setString(5, h.requester());
                request.setString(6, h.requesterGroups());
                request.setString(7, h.connection());
                request.setString(8, DELETE_ALL_ORDERS);
                request.setString(9, "[\"DELETE without WHERE on production connection " + h.connection()
                        + " needs approval by approvers\"]");
                request.setString(10, h.approverGroups());
                request.setInt(11, h.minApprovals());
                request.setString(12, h.grantScope());
                request.setObject(13, h.grantTtlS());
                request.executeUpdate();
                notification.setObject(1, id);
                notification.executeUpdate();
                c.commit();
            }
        }
        created.add(id);
        return id;
    }

    String state(UUID id) throws SQLException {
        return scalar("SELECT state FROM approval_requests WHERE id = ?", id);
    }

    /** The request's notifications' events, in id order. */
    List<String> events(UUID id) throws SQLException {
        return column("SELECT event FROM approval_notifications WHERE request_id = ? ORDER BY id", id);
    }

    /** action, actor_subject and details of the request's audit entries, oldest first. */
    List<String> audit(String target) throws SQLException {
        return column("SELECT action || ' ' || actor_subject || ' ' || details::text FROM admin_audit WHERE target = ?"
                + " ORDER BY id", target);
    }

    String scalar(String sql, Object parameter) throws SQLException {
        List<String> values = column(sql, parameter);
        return values.isEmpty() ? null : values.get(0);
    }

    List<String> column(String sql, Object parameter) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, parameter);
            List<String> values = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            return values;
        }
    }

    /** Removes the requests this fixture created, their votes, notifications and grants' links (cascade). */
    void deleteAll() throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement grants = c.prepareStatement("DELETE FROM grants WHERE approval_request_id = ANY (?)");
                PreparedStatement requests = c.prepareStatement("DELETE FROM approval_requests WHERE id = ANY (?)")) {
            java.sql.Array ids = c.createArrayOf("uuid", created.toArray());
            grants.setArray(1, ids);
            grants.executeUpdate();
            requests.setArray(1, ids);
            requests.executeUpdate();
        }
        created.clear();
    }
}
