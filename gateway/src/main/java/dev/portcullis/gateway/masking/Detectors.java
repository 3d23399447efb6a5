package dev.portcullis.gateway.masking;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Content detectors: find sensitive values inside text that escaped the column rules ({@code lower(email)},
 * {@code concat(...)}, {@code row_to_json(u)}) and mask them in place, until no detector finds anything in the
 * result. What replaces a finding is made of mask characters, separators and kept digits only, so JSON and COPY text
 * stay well-formed. Thread-safe.
 *
 * <p>Detection works on the value's UTF-8 bytes, as they come off the wire: one pass ({@link Matchers#candidates},
 * written so that text the branch predictor has not seen costs no more than text it has) notes which kinds could have
 * a match at all (13 digits among digits, ' ' and '-' for a card, an '@' after a local-part character for an address,
 * a known secret prefix, two capitals before a digit for an IBAN or a NINO, a '+' before a digit or a three-digit
 * group before a separator for a phone number), and where the cards could be; only those kinds are then matched
 * (a card only in those places), each by a hand-written matcher with its checks (Luhn, mod-97) on the match alone.
 * Most values hold no candidate and cost that one pass; nothing is decoded.
 */
public final class Detectors {

    /** In the order the rules run: each runs over what the ones before it left. */
    public enum Kind {
        SECRET, EMAIL, IBAN, CARD, NATIONAL_ID, PHONE;

        /** @throws IllegalArgumentException for a detector the contract does not define */
        public static Kind of(String name) {
            return switch (name) {
                case "email" -> EMAIL;
                case "card" -> CARD;
                case "iban" -> IBAN;
                case "phone" -> PHONE;
                case "national_id" -> NATIONAL_ID;
                case "secret" -> SECRET;
                default -> throw new IllegalArgumentException("unknown detector '" + name + "'");
            };
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String SECRET_REDACTED = "[secret redacted]";

    /**
     * Passes over a text before it is given up on. Masking keeps some characters (a card's last four digits, a phone
     * number's last two), and those can join the characters next to the finding into a new one ({@code 4242...4242
     * 00107755831}: {@code 4242 00107755831} is a card too), so the text is scanned again until nothing is found. A
     * text that still holds findings after this many passes was built to chain them, and none of it is passed on.
     */
    static final int MAX_PASSES = 4;

    private static final Kind[] KINDS = Kind.values();

    private final Set<Kind> kinds;
    /** A bit per kind ({@link Matchers#bit}) that runs. */
    private final int enabled;

    public Detectors(Set<Kind> kinds) {
        this.kinds = kinds.isEmpty() ? Set.of() : EnumSet.copyOf(kinds);
        int bits = 0;
        for (Kind kind : kinds) {
            bits |= Matchers.bit(kind);
        }
        this.enabled = bits;
    }

    public boolean isEmpty() {
        return enabled == 0;
    }

    public Set<Kind> kinds() {
        return kinds;
    }

    /**
     * Masks every finding in the UTF-8 text, until it holds none: scanning what this returns finds nothing. Adds the
     * kinds that fired to {@code fired}. Bytes that are not UTF-8 are kept as they are (a finding is ASCII).
     *
     * @return the masked text; the same array when nothing was found; null when findings are still left after
     *     {@link #MAX_PASSES} passes (the value is then withheld: NULL)
     */
    public byte[] scan(byte[] text, Set<Kind> fired) {
        if (enabled == 0) {
            return text;
        }
        byte[] out = text;
        Matchers.Candidates candidates = new Matchers.Candidates();
        Matchers.candidates(text, candidates);
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            boolean changed = false;
            for (Kind kind : KINDS) {
                if ((candidates.kinds & enabled & Matchers.bit(kind)) == 0) {
                    continue;
                }
                byte[] masked = Matchers.maskAll(kind, out, candidates);
                if (masked != out) {
                    fired.add(kind);
                    out = masked;
                    changed = true;
                    // what replaced the findings may have ended (or, next to other text, begun) a candidate: the
                    // later kinds of this pass, and the next pass, look at the text as it is now
                    Matchers.candidates(out, candidates);
                }
            }
            if (!changed) {
                return out;
            }
        }
        return null;
    }

    /**
     * {@link #scan(byte[], Set)} of a text. (A lone surrogate, which no decoded value holds, becomes '?' in a text
     * where something was found.)
     */
    public String scan(String text, Set<Kind> fired) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = scan(bytes, fired);
        return out == bytes ? text : out == null ? null : new String(out, StandardCharsets.UTF_8);
    }

    /** Whether these digits pass the Luhn check. */
    static boolean luhn(String digits) {
        return Matchers.luhn(digits.getBytes(StandardCharsets.US_ASCII), digits.length());
    }
}
