package dev.portcullis.gateway.testing;

import java.sql.SQLException;

/**
 * A seeded schema with the columns the default masking rules cover ({@code users.email}, {@code users.phone},
 * {@code payments.card_number}, {@code customers.ssn}/{@code tax_id}/{@code password_hash}/{@code api_key}), in
 * the test database behind {@link PolicyTargets}. All values are fictional; card numbers pass the Luhn check.
 */
public final class MaskingTargets {
    private static boolean created;

    private MaskingTargets() {
    }

    public static synchronized void ensure() throws SQLException {
        PolicyTargets.ensure();
        if (created) {
            return;
        }
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("DROP TABLE IF EXISTS users, payments, customers CASCADE");
            st.execute("CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, phone text NOT NULL,"
                    + " tags text[] NOT NULL DEFAULT '{}', profile jsonb)");
            st.execute("INSERT INTO users VALUES"
                    + " (1, 'Jane Doe', 'jane.doe@example.com', '+1-202-555-0142', '{vip}', '{\"contact\": \"jane.doe@example.com\"}'),"
                    + " (2, 'John Roe', 'john.roe@example.org', '+44 20 7946 0958', '{}', null),"
                    + " (3, 'Ann Lee', 'ann@example.net', '+1-312-555-0199', '{}', null)");
            st.execute("CREATE TABLE payments (id int PRIMARY KEY, user_id int NOT NULL, card_number text NOT NULL, amount numeric(10,2) NOT NULL)");
            st.execute("INSERT INTO payments VALUES (1, 1, '4242424242424242', 12.50), (2, 2, '5555-5555-5555-4444', 99.00)");
            st.execute("CREATE TABLE customers (id int PRIMARY KEY, ssn varchar(11), tax_id text, password_hash text, api_key text, note text)");
            st.execute("INSERT INTO customers VALUES (1, '123-45-6789', 'TX-1001', '$2b$12$abcdefghijk', 'key-123',"
                    + " 'IBAN GB82WEST12345698765432, token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U')");
            st.execute("INSERT INTO customers VALUES (2, '987-65-4321', 'TX-1001', 'x', 'key-456', 'nothing to see')");
        }
        created = true;
    }

    /** (Re)creates {@code big.users} with {@code rows} rows; its email and phone are masked by the default rules. */
    public static void bigUsers(int rows) throws SQLException {
        ensure();
        try (var c = TestStack.superuser(TargetDatabases.DATABASE); var st = c.createStatement()) {
            st.execute("SET ROLE " + TargetDatabases.SCRAM_ROLE);
            st.execute("CREATE SCHEMA IF NOT EXISTS big");
            st.execute("DROP TABLE IF EXISTS big.users");
            st.execute("CREATE UNLOGGED TABLE big.users (id int, email text, phone text)");
            st.execute("INSERT INTO big.users SELECT g, 'user' || g || '@example.com', '+1-202-555-' || lpad((g % 10000)::text, 4, '0')"
                    + " FROM generate_series(1, " + rows + ") g");
        }
    }
}
