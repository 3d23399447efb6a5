package dev.portcullis.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** The raw values of the masked columns {@link MaskingTargets} seeds, and the check that a result holds none of them. */
public final class MaskedValues {

    /** users.email and payments.card_number as stored. */
    public static final List<String> SECRETS = List.of("jane.doe@example.com", "john.roe@example.org", "ann@example.net",
            "4242424242424242", "5555-5555-5555-4444");

    private MaskedValues() {
    }

    /** No masked value in any form: plain, split across columns or rows, hex, base64, reversed, separators removed. */
    public static void assertNothingRaw(String sql, String client, List<List<String>> rows) {
        assertFalse(rows.isEmpty(), sql + " through " + client + " returned nothing: the test would prove nothing");
        StringBuilder joined = new StringBuilder();
        for (List<String> row : rows) {
            for (String cell : row) {
                if (cell != null) {
                    joined.append(cell);
                }
            }
        }
        String all = joined.toString();
        String squeezed = all.replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
        for (String secret : SECRETS) {
            byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
            String bare = secret.replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
            List<String> forms = List.of(bare, new StringBuilder(bare).reverse().toString(),
                    HexFormat.of().formatHex(bytes), Base64.getEncoder().encodeToString(bytes).replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT));
            for (String form : forms) {
                assertFalse(squeezed.contains(form), sql + " through " + client + " revealed " + secret + ": " + all);
            }
            String local = secret.contains("@") ? secret.substring(0, secret.indexOf('@')) : secret.substring(0, 8);
            if (local.length() >= 8) {
                assertFalse(all.contains(local), sql + " through " + client + " revealed part of " + secret + ": " + all);
            }
        }
    }
}
