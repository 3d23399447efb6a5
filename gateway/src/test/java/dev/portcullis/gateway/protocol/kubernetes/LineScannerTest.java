package dev.portcullis.gateway.protocol.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.masking.Detectors;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Lines through the content detectors, however the chunks cut them. */
class LineScannerTest {
    private static final String CARD = "4111 1111 1111 1111";
    private static final String EMAIL = "jane.doe@example.com";
    private static final String LOG = "GET /health 200\n"
            + "charged card " + CARD + " for order 17\n"
            + "mail sent to " + EMAIL + "\n"
            + "done";

    private final Set<Detectors.Kind> fired = EnumSet.noneOf(Detectors.Kind.class);

    private LineScanner relay() {
        return new LineScanner(new Detectors(EnumSet.allOf(Detectors.Kind.class)), fired);
    }

    private static String through(LineScanner relay, byte[] bytes, int... cuts) {
        Buffer out = Buffer.buffer();
        int from = 0;
        for (int cut : cuts) {
            out.appendBuffer(relay.accept(java.util.Arrays.copyOfRange(bytes, from, cut)));
            from = cut;
        }
        out.appendBuffer(relay.accept(java.util.Arrays.copyOfRange(bytes, from, bytes.length)));
        out.appendBuffer(relay.flush());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void findings_are_masked_and_every_other_byte_passes_as_it_was() {
        LineScanner relay = relay();
        String out = through(relay, LOG.getBytes(StandardCharsets.UTF_8));
        assertFalse(out.contains(CARD) || out.contains(CARD.replace(" ", "")), out);
        assertFalse(out.contains(EMAIL), out);
        String[] lines = out.split("\n", -1);
        assertEquals(4, lines.length, out);
        assertEquals("GET /health 200", lines[0]);
        assertTrue(lines[1].startsWith("charged card ") && lines[1].endsWith(" for order 17"), lines[1]);
        assertTrue(lines[1].endsWith("1111 for order 17"), "a card keeps its last four digits, as in SQL results: " + lines[1]);
        assertEquals("done", lines[3], "the last line, without a newline, once the log ends");
        assertEquals(Set.of(Detectors.Kind.CARD, Detectors.Kind.EMAIL), fired);
    }

    @Test
    void a_line_cut_anywhere_by_the_chunks_is_masked_the_same() {
        byte[] bytes = LOG.getBytes(StandardCharsets.UTF_8);
        String whole = through(relay(), bytes);
        for (int cut = 1; cut < bytes.length; cut++) {
            assertEquals(whole, through(relay(), bytes, cut), "cut at " + cut);
            for (int second = cut + 1; second < bytes.length; second += 7) {
                assertEquals(whole, through(relay(), bytes, cut, second), "cut at " + cut + " and " + second);
            }
        }
    }

    @Test
    void a_line_over_the_cap_is_withheld_whole_and_the_next_line_passes() {
        byte[] longLine = ("x".repeat(LineScanner.MAX_LINE_BYTES - 30) + " " + CARD + " " + "y".repeat(100) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] next = "next line\n".getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[longLine.length + next.length];
        System.arraycopy(longLine, 0, all, 0, longLine.length);
        System.arraycopy(next, 0, all, longLine.length, next.length);
        for (int cut : new int[] {1000, LineScanner.MAX_LINE_BYTES - 10, LineScanner.MAX_LINE_BYTES + 5, longLine.length}) {
            String out = through(relay(), all, cut);
            assertEquals(LineScanner.TOO_LONG + "\nnext line\n", out, "cut at " + cut);
        }
        String exactly = "z".repeat(LineScanner.MAX_LINE_BYTES) + "\n";
        assertEquals(exactly, through(relay(), exactly.getBytes(StandardCharsets.US_ASCII)), "a line of exactly the cap passes");
    }

    /** An exec's prompt has no newline: a flush passes what is held, scanned, and the line goes on after it. */
    @Test
    void a_flush_passes_the_held_part_scanned_and_the_line_goes_on() {
        LineScanner lines = relay();
        assertEquals("", lines.accept(("$ echo " + CARD).getBytes(StandardCharsets.US_ASCII)).toString(StandardCharsets.US_ASCII));
        assertTrue(lines.holding());
        String flushed = lines.flush().toString(StandardCharsets.US_ASCII);
        assertTrue(flushed.startsWith("$ echo ") && !flushed.contains(CARD), flushed);
        assertFalse(lines.holding());
        assertEquals(" done\n", lines.accept(" done\n".getBytes(StandardCharsets.US_ASCII)).toString(StandardCharsets.US_ASCII));
    }
}
