package dev.portcullis.gateway.connection;

import java.util.Map;

/**
 * A registered connection: where the gateway connects on a client's behalf, and with which credentials.
 * The password stays sealed until the moment of login; {@link #toString()} never shows it.
 *
 * @param type     the engine that serves it ({@code postgres}, ...)
 * @param database for {@code postgres}; null for other types
 * @param username for {@code postgres}; null for other types
 * @param settings what only this type needs, as its engine reads it (JSON object)
 */
public record TargetConnection(String name, String type, String host, int port, String database, String username,
        byte[] sealedSecret, TlsMode tlsMode, String tlsCaPem, Map<String, String> tags, Map<String, Object> settings) {

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
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** A connection without type-specific settings. */
    public TargetConnection(String name, String type, String host, int port, String database, String username,
            byte[] sealedSecret, TlsMode tlsMode, String tlsCaPem, Map<String, String> tags) {
        this(name, type, host, port, database, username, sealedSecret, tlsMode, tlsCaPem, tags, Map.of());
    }

    @Override
    public String toString() {
        return "TargetConnection[" + name + " " + type + "://" + username + "@" + host + ":" + port + "/" + database
                + " tls=" + tlsMode + " tags=" + tags + "]";
    }
}
