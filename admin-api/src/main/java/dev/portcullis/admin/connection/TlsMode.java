package dev.portcullis.admin.connection;

/** How the gateway protects its connection to the target. Spelled as libpq's sslmode values. */
public final class TlsMode {
    public static final String DISABLE = "disable";
    public static final String REQUIRE = "require";
    public static final String VERIFY_FULL = "verify-full";
    /** For validation patterns: exactly one of the modes above. */
    public static final String PATTERN = "disable|require|verify-full";

    private TlsMode() {
    }
}
