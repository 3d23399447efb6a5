package dev.portcullis.gateway.testing;

import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.HexFormat;

/**
 * Target databases and roles behind the gateway, created in the stack's real PostgreSQL for the tests. Each
 * login role gets a fresh random password per run; only the gateway's registry (sealed) and this class know it.
 */
public final class TargetDatabases {
    public static final String DATABASE = "gateway_test";
    /** SCRAM-SHA-256 login (the stack's default pg_hba method). */
    public static final String SCRAM_ROLE = "gw_test_scram";
    public static final String CONNECTION = "gw-test";
    public static final String SCRAM_PASSWORD = randomPassword();

    private static boolean created;

    private TargetDatabases() {
    }

    public static String randomPassword() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return "pw-" + HexFormat.of().formatHex(b);
    }

    /** Creates the test database with a SCRAM role owning it, and registers it as connection {@value #CONNECTION}. */
    public static synchronized void ensure() throws SQLException {
        if (created) {
            return;
        }
        createRole(SCRAM_ROLE, SCRAM_PASSWORD, "scram-sha-256");
        try (var c = TestStack.superuser("postgres"); var st = c.createStatement();
                var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
            if (!rs.next()) {
                st.execute("CREATE DATABASE " + DATABASE + " OWNER " + SCRAM_ROLE);
            }
        }
        TestStack.registerConnection(CONNECTION, DATABASE, SCRAM_ROLE, SCRAM_PASSWORD, "require", null, "{\"env\":\"test\"}");
        created = true;
    }

    /** (Re)creates a login role whose password is stored with the given method (md5 or scram-sha-256), or none. */
    public static void createRole(String role, String password, String encryption) throws SQLException {
        try (var c = TestStack.superuser("postgres"); var st = c.createStatement()) {
            st.execute("SET password_encryption = '" + encryption + "'");
            st.execute("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN CREATE ROLE " + role
                    + " LOGIN; END IF; END$$");
            st.execute("ALTER ROLE " + role + " WITH LOGIN PASSWORD " + (password == null ? "NULL" : "'" + password + "'"));
            st.execute("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + role);
        } catch (SQLException e) {
            if (!e.getMessage().contains("does not exist")) {
                throw e;
            }
        }
    }
}
