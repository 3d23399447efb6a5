package dev.portcullis.gateway.masking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each masking method and detector on its own: what it keeps, what it hides, and what it leaves alone. */
class MaskingMethodsTest {
    private static final KeyedHash HASH = new KeyedHash(new byte[32]);

    private static String mask(ColumnMask.Method m, int keepFirst, int keepLast, String value) {
        return new ColumnMask(m, keepFirst, keepLast, '*', "t/rule").apply(value, HASH);
    }

    @Test
    void methods() {
        assertEquals("***", mask(ColumnMask.Method.REDACT, 0, 0, "secret"));
        assertNull(mask(ColumnMask.Method.NULL, 0, 0, "secret"));
        assertEquals("j***@example.com", mask(ColumnMask.Method.EMAIL, 0, 0, "jane.doe@example.com"));
        assertEquals("***", mask(ColumnMask.Method.EMAIL, 0, 0, "not an address"));
        assertEquals("**** **** **** 4242", mask(ColumnMask.Method.CARD, 0, 4, "4242-4242-4242-4242"));
        assertEquals("***", mask(ColumnMask.Method.CARD, 0, 4, "1234"));
        assertEquals("+*-***-***-**42", mask(ColumnMask.Method.PARTIAL, 0, 2, "+1-202-555-0142"));
        assertEquals("J*** ***", mask(ColumnMask.Method.PARTIAL, 1, 0, "Jane Doe"));
        assertEquals("***", mask(ColumnMask.Method.PARTIAL, 0, 4, "abc"), "too short to keep anything");
        assertEquals("Jü**", mask(ColumnMask.Method.PARTIAL, 2, 0, "Jürg"), "characters, not bytes");
    }

    @Test
    void masking_from_the_bytes_gives_what_masking_the_text_gives() {
        String[] values = {"jane.doe@example.com", "@x", "x@", "no-at", "", "+1-202-555-0142", "4242-4242-4242-4242", "1234",
                "ab", "Jane Doe", "123-45-6789"};
        for (ColumnMask.Method m : ColumnMask.Method.values()) {
            if (m == ColumnMask.Method.HASH) {
                continue;
            }
            ColumnMask mask = new ColumnMask(m, 1, 2, '#', "t/rule");
            for (String v : values) {
                io.netty.buffer.ByteBuf out = Unpooled.buffer();
                assertTrue(mask.writeAscii(Unpooled.copiedBuffer(v, StandardCharsets.US_ASCII), 0, v.length(), out));
                String expected = mask.apply(v, HASH);
                int len = out.readInt();
                assertEquals(expected, len < 0 ? null : out.toString(out.readerIndex(), len, StandardCharsets.UTF_8), m + " of '" + v + "'");
            }
        }
        io.netty.buffer.ByteBuf out = Unpooled.buffer();
        assertFalse(new ColumnMask(ColumnMask.Method.EMAIL, 0, 0, '*', "r").writeAscii(Unpooled.copiedBuffer("jü@x.de", StandardCharsets.UTF_8), 0, 8, out),
                "non-ASCII text takes the decoding path");
        assertEquals(0, out.writerIndex());
    }

    @Test
    void the_hash_is_keyed_and_deterministic() {
        String a = mask(ColumnMask.Method.HASH, 0, 0, "TX-1001");
        assertEquals(a, mask(ColumnMask.Method.HASH, 0, 0, "TX-1001"));
        assertNotEquals(a, mask(ColumnMask.Method.HASH, 0, 0, "TX-1002"));
        byte[] otherKey = new byte[32];
        otherKey[0] = 1;
        assertNotEquals(a, new KeyedHash(otherKey).hex("TX-1001"));
        assertTrue(a.matches("[0-9a-f]{32}"));
    }

    private static final Detectors ALL = new Detectors(EnumSet.allOf(Detectors.Kind.class));

    private static String detect(String text) {
        return ALL.scan(text, EnumSet.noneOf(Detectors.Kind.class));
    }

    @Test
    void detectors_find_and_mask_in_place() {
        assertEquals("mail j***@example.com now", detect("mail jane.doe@example.com now"));
        assertEquals("card **** **** **** 4242", detect("card 4242 4242 4242 4242"));
        assertEquals("card 4242 4242 4242 4241", detect("card 4242 4242 4242 4241"), "fails the Luhn check");
        assertEquals("GB****************5432", detect("GB82WEST12345698765432"));
        assertEquals("GB00WEST12345698765432", detect("GB00WEST12345698765432"), "fails the mod-97 check");
        assertEquals("ssn ***-**-6789", detect("ssn 123-45-6789"));
        assertEquals("call +* ***-***-**42", detect("call +1 202-555-0142"));
        assertEquals("t=" + Detectors.SECRET_REDACTED, detect("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijk"));
        assertEquals(Detectors.SECRET_REDACTED, detect("AKIAIOSFODNN7EXAMPLE"));
        assertEquals("{\"contact\": \"j***@example.com\"}", detect("{\"contact\": \"jane.doe@example.com\"}"), "JSON stays JSON");
    }

    @Test
    void digits_a_mask_keeps_never_join_their_neighbours_into_a_finding() {
        // 4242 kept of the card, then 00107755831: "4242 00107755831" is a Luhn-valid card of its own
        String chained = "4242424242424242 00107755831";
        String masked = detect(chained);
        assertEquals("**** **** **** **** **** **** 5831", masked);
        Set<Detectors.Kind> again = EnumSet.noneOf(Detectors.Kind.class);
        assertSame(masked, ALL.scan(masked, again), "nothing is found in what masking gives");
        assertTrue(again.isEmpty());
    }

    @Test
    void a_text_built_to_chain_findings_beyond_the_passes_is_withheld() {
        // each card's kept last four digits and the next eleven make a new card, one more per pass
        String chain = "4242424242424242 00107755831 " + link("5831") + " ";
        chain += link(chain.substring(chain.length() - 5, chain.length() - 1)) + " ";
        chain += link(chain.substring(chain.length() - 5, chain.length() - 1));
        Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
        assertNull(ALL.scan(chain, fired), "none of it is passed on");
        assertEquals(EnumSet.of(Detectors.Kind.CARD), fired);
        assertNull(new MaskPlan(java.util.List.of(new MaskPlan.Column("note", "public", "t", "note", MaskPlan.TypeClass.TEXT, null, true)),
                ALL, HASH, "p").maskText(0, chain, fired), "the value becomes NULL");
    }

    /** Eleven digits that make a Luhn-valid card after the four kept digits {@code kept}. */
    private static String link(String kept) {
        for (int check = 0; ; check++) {
            String digits = "1234567890" + check;
            if (Detectors.luhn(kept + digits)) {
                return digits;
            }
        }
    }

    @Test
    void detectors_leave_ordinary_text_alone() {
        for (String s : new String[] {"Jane Doe", "2025-01-01 08:41:00+00", "order 12345", "12.50", "high ghost", "x@y"}) {
            Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);
            assertSame(s, ALL.scan(s, fired), s);
            assertTrue(fired.isEmpty(), s);
        }
    }

    @Test
    void a_long_value_is_scanned_in_one_pass_and_an_address_after_it_is_still_found() {
        // 1 MB of address characters with no address in it: a pattern that retries every position to the end of
        // the run (as the email rule once did) would take hours here and hold an event loop all that time.
        String hex = "0123456789abcdef".repeat(1 << 16);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertSame(hex, detect(hex));
            assertEquals(hex + " j***@example.com", detect(hex + " jane@example.com"));
            assertEquals(hex + "@nowhere", detect(hex + "@nowhere"), "an '@' without a domain is no address");
        });
    }
}
