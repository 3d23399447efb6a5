package dev.portcullis.gateway.masking;

import dev.portcullis.gateway.masking.Detectors.Kind;
import java.math.BigInteger;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The content detectors as they were before they became one pass over the bytes (commit aa02367): a regular
 * expression per kind, matched over the decoded text, rule after rule, until nothing is found. Kept as the oracle of
 * {@link DetectorsDifferentialTest} and of the JMH comparison: {@link Detectors} must find and replace exactly what
 * these find and replace. Only the names and the constants' owner changed.
 */
public final class RegexDetectors {
    private static final int MAX_PASSES = Detectors.MAX_PASSES;

    /**
     * Replaces what a detector found; returns null to leave the match alone (a failed checksum). {@code mayMatch} is
     * a cheap linear test of what any match needs, so the pattern only runs over texts that could hold one: a regex
     * scan costs tens of nanoseconds per character and rule (about 1 ms for a 4 KB value and all rules).
     */
    private record Rule(Kind kind, Pattern pattern, Function<String, String> replace, Predicate<String> mayMatch) {
    }

    private static final String SECRET_REDACTED = Detectors.SECRET_REDACTED;
    private static final List<Rule> RULES = List.of(
            new Rule(Kind.SECRET, Pattern.compile(
                    "eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}"          // JWT
                            + "|AKIA[0-9A-Z]{16}"                                            // AWS access key id
                            + "|gh[pousr]_[A-Za-z0-9]{36,}"                                  // GitHub token
                            + "|xox[abprs]-[A-Za-z0-9-]{10,}"                                 // Slack token
                            + "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"                        // Stripe key
                            + "|-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\\z)"),
                    m -> SECRET_REDACTED,
                    t -> t.contains("eyJ") || t.contains("AKIA") || t.contains("gh") || t.contains("xox") || t.contains("k_")
                            || t.contains("-----BEGIN ")),
            // A match starts only where a run of local-part characters starts, and the run is taken whole (possessive,
            // '@' is not in it): linear in the text. Without both, each position of a long run without an address
            // was tried again to its end (2 ms for a 512-character hex string).
            new Rule(Kind.EMAIL, Pattern.compile("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}"),
                    m -> ColumnMask.email(m, '*'), t -> t.indexOf('@') >= 0),
            new Rule(Kind.IBAN, Pattern.compile("\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\\b"), RegexDetectors::iban, RegexDetectors::hasUpperCase),
            new Rule(Kind.CARD, Pattern.compile("(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"), RegexDetectors::card, t -> digitRun(t) >= 13),
            new Rule(Kind.NATIONAL_ID, Pattern.compile("(?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])"       // US SSN
                    + "|\\b[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]\\b"),                                     // UK NINO
                    m -> ColumnMask.partial(m, 0, 4, '*'), t -> t.indexOf('-') >= 0 || hasUpperCase(t)),
            new Rule(Kind.PHONE, Pattern.compile("\\+[0-9](?:[ ().-]{0,2}[0-9]){7,14}(?![0-9])"              // international
                    + "|(?<![0-9])\\(?[0-9]{3}\\)?[ .-][0-9]{3}[ .-][0-9]{4}(?![0-9])"),                    // North American
                    m -> ColumnMask.partial(m, 0, 2, '*'),
                    t -> t.indexOf('+') >= 0 || t.indexOf(' ') >= 0 || t.indexOf('.') >= 0 || t.indexOf('-') >= 0));

    private static boolean hasUpperCase(String t) {
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return true;
            }
        }
        return false;
    }

    /** The most digits in one run of digits where single spaces or hyphens may separate them (a card's shape). */
    private static int digitRun(String t) {
        int best = 0;
        int run = 0;
        boolean afterSeparator = false;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c >= '0' && c <= '9') {
                run++;
                afterSeparator = false;
                best = Math.max(best, run);
            } else if ((c == ' ' || c == '-') && run > 0 && !afterSeparator) {
                afterSeparator = true;
            } else {
                run = 0;
                afterSeparator = false;
            }
        }
        return best;
    }

    private final List<Rule> rules;

    public RegexDetectors(Set<Kind> kinds) {
        this.rules = RULES.stream().filter(r -> kinds.contains(r.kind())).toList();
    }

    /** As {@link Detectors#scan(String, Set)} did: the masked text, the same instance when nothing was found, null when findings are left after the passes. */
    public String scan(String text, Set<Kind> fired) {
        String out = text;
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            String masked = maskOnce(out, fired);
            if (masked == out) {
                return out;
            }
            out = masked;
        }
        return null;
    }

    /** One pass of every rule; the same instance when no rule found anything. */
    private String maskOnce(String text, Set<Kind> fired) {
        String out = text;
        for (Rule rule : rules) {
            if (!rule.mayMatch().test(out)) {
                continue;
            }
            Matcher m = rule.pattern().matcher(out);
            StringBuilder sb = null;
            int last = 0;
            while (m.find()) {
                String replacement = rule.replace().apply(m.group());
                if (replacement == null) {
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder(out.length());
                }
                sb.append(out, last, m.start()).append(replacement);
                last = m.end();
            }
            if (sb != null) {
                fired.add(rule.kind());
                out = sb.append(out, last, out.length()).toString();
            }
        }
        return out;
    }

    /** A payment card number passes the Luhn check; masked to its last four digits. */
    private static String card(String match) {
        String digits = match.replaceAll("[^0-9]", "");
        if (digits.length() < 13 || digits.length() > 19 || !luhn(digits)) {
            return null;
        }
        return ColumnMask.card(digits, 4, '*');
    }

    static boolean luhn(String digits) {
        int sum = 0;
        boolean twice = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (twice) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
        }
        return sum % 10 == 0;
    }

    /** An IBAN passes its ISO 7064 mod-97 check; masked to its country code and last four characters. */
    private static String iban(String match) {
        String compact = match.replace(" ", "");
        String rearranged = compact.substring(4) + compact.substring(0, 4);
        StringBuilder numeric = new StringBuilder(rearranged.length() * 2);
        for (int i = 0; i < rearranged.length(); i++) {
            char c = rearranged.charAt(i);
            numeric.append(Character.isDigit(c) ? String.valueOf(c) : String.valueOf(c - 'A' + 10));
        }
        if (!new BigInteger(numeric.toString()).mod(BigInteger.valueOf(97)).equals(BigInteger.ONE)) {
            return null;
        }
        return compact.substring(0, 2) + ColumnMask.partial(compact.substring(2), 0, 4, '*');
    }
}
