package dev.portcullis.gateway.connection;

import java.util.Map;

/**
 * A registered connection: where the gateway connects on a client's behalf, and with which credentials.
 * The password stays sealed until the moment of login; {@link #toString()} never shows it.
 */
public record TargetConnection(String name, String type, String host, int port, String database, String username,
        byte[] sealedSecret, TlsMode tlsMode, String tlsCaPem, Map<String, String> tags) {

    public enum TlsMode {
        DISABLE, REQUIRE, VERIFY_FULL;

        static TlsMode parse(String value) {
            return switch (value) {
                case "disable" -> DISABLE;
                case "require" -> REQUIRE;
                case "verify-full" -> VERIFY_FULL;
                default -> throw new IllegalArgumentException("unknown tls_mode '" + value + "'");
            };
        }
    }

    public TargetConnection {
        tags = Map.copyOf(tags);
    }

    @Override
    public String toString() {
        return "TargetConnection[" + name + " " + type + "://" + username + "@" + host + ":" + port + "/" + database
                + " tls=" + tlsMode + " tags=" + tags + "]";
    }
}
