package dev.portcullis.gateway.testing;

import java.sql.SQLException;

/**
 * A production-tagged and a development-tagged connection to the same seeded test schema, for checking what
 * each role may do where.
 */
public final class PolicyTargets {
    public static final String PROD = "gw-policy-prod";
    public static final String DEV = "gw-policy-dev";
    private static boolean created;

    private PolicyTargets() {
    }

    public static synchronized void ensure() throws SQLException {
        if (created) {
            return;
        }
        TargetDatabases.ensure();
        TestStack.registerConnection(PROD, TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE, TargetDatabases.SCRAM_PASSWORD,
                "require", null, "{\"env\":\"prod\"}");
        TestStack.registerConnection(DEV, TargetDatabases.DATABASE, TargetDatabases.SCRAM_ROLE, TargetDatabases.SCRAM_PASSWORD,
                "require", null, "{\"env\":\"dev\"}");
        created = true;
    }

    /** (Re)creates {@code policy_users} with a known number of rows, directly on the backend. */
    public static void resetUsers(int rows) throws SQLException {
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("DROP TABLE IF EXISTS policy_users");
            st.execute("CREATE TABLE policy_users (id int PRIMARY KEY, name text, email text)");
            st.execute("INSERT INTO policy_users SELECT g, 'user ' || g, 'user' || g || '@example.com' FROM generate_series(1, " + rows + ") g");
        }
    }

    public static int countUsers() throws SQLException {
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement();
                var rs = st.executeQuery("SELECT count(*) FROM policy_users")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
