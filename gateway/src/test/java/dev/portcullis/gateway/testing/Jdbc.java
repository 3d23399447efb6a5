package dev.portcullis.gateway.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** pgjdbc connections through the gateway under test. */
public final class Jdbc {
    private Jdbc() {
    }

    public static Connection viaGateway(String connection, String token) throws SQLException {
        return viaGateway(connection, token, new Properties());
    }

    public static Connection viaGateway(String connection, String token, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestStack.userOf(token));
        p.setProperty("password", token);
        p.setProperty("sslmode", "require");
        p.setProperty("connectTimeout", "10");
        p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://" + TestStack.host() + ":" + TestStack.gatewayPort() + "/" + connection, p);
    }

    /** Every row of a prepared query's result, each column read with getString. */
    public static java.util.List<java.util.List<String>> rows(Connection c, String sql) throws SQLException {
        java.util.List<java.util.List<String>> out = new java.util.ArrayList<>();
        try (java.sql.PreparedStatement ps = c.prepareStatement(sql); java.sql.ResultSet rs = ps.executeQuery()) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                java.util.List<String> row = new java.util.ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }
}
