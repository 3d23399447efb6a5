package dev.portcullis.contract.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class AsciicastTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode output(long seq, String at, long requestSeq, String stream, byte[] data) {
        return JSON.createObjectNode().put("v", 2).put("seq", seq).put("at", at).put("type", "output").put("request_seq", requestSeq)
                .put("stream", stream).put("data", Base64.getEncoder().encodeToString(data));
    }

    private static List<JsonNode> lines(String cast) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : cast.split("\n")) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void the_first_resize_sizes_the_terminal_and_a_character_split_between_events_is_shown_whole() throws Exception {
        byte[] snowman = "\u2603".getBytes(StandardCharsets.UTF_8);
        Asciicast cast = new Asciicast(2L);
        cast.add(List.of(
                output(3, "2026-12-07T03:00:00.000Z", 2, "resize", "132x43".getBytes(StandardCharsets.US_ASCII)),
                output(4, "2026-12-07T03:00:00.250Z", 2, "stdout", Arrays.copyOfRange(snowman, 0, 1)),
                output(5, "2026-12-07T03:00:00.500Z", 2, "stdout", Arrays.copyOfRange(snowman, 1, 3)),
                output(6, "2026-12-07T03:00:01.000Z", 9, "stdout", "another request".getBytes(StandardCharsets.UTF_8)),
                output(7, "2026-12-07T03:00:01.500Z", 2, "stdin", "ls\r".getBytes(StandardCharsets.UTF_8)),
                output(8, "2026-12-07T03:00:02.000Z", 2, "resize", "80x24".getBytes(StandardCharsets.US_ASCII))));
        List<JsonNode> lines = lines(cast.render());
        assertEquals(2, lines.get(0).get("version").asInt());
        assertEquals(132, lines.get(0).get("width").asInt());
        assertEquals(43, lines.get(0).get("height").asInt());
        assertEquals(4, lines.size(), cast.render());
        assertEquals("o", lines.get(1).get(1).asText());
        assertEquals("\u2603", lines.get(1).get(2).asText(), "the snowman once, whole, when its last byte came");
        assertEquals(0.5, lines.get(1).get(0).asDouble(), 1e-9);
        assertEquals("i", lines.get(2).get(1).asText());
        assertEquals("ls\r", lines.get(2).get(2).asText());
        assertEquals("r", lines.get(3).get(1).asText());
        assertEquals("80x24", lines.get(3).get(2).asText());
    }

    @Test
    void a_resize_that_is_no_size_and_data_that_is_no_base64_are_skipped() throws Exception {
        Asciicast cast = new Asciicast(null);
        ObjectNode garbled = output(4, "2026-12-07T03:00:00.100Z", 2, "stdout", new byte[0]).put("data", "%%%not base64");
        cast.add(List.of(
                output(3, "2026-12-07T03:00:00.000Z", 2, "resize", "0x99999999".getBytes(StandardCharsets.US_ASCII)),
                garbled,
                output(5, "2026-12-07T03:00:00.200Z", 2, "stdout", "ok".getBytes(StandardCharsets.UTF_8))));
        List<JsonNode> lines = lines(cast.render());
        assertEquals(80, lines.get(0).get("width").asInt(), "the default size stays");
        assertEquals(2, lines.size());
        assertEquals("ok", lines.get(1).get(2).asText());
    }

    @Test
    void more_than_the_cap_of_streams_is_refused_with_what_to_do() {
        Asciicast cast = new Asciicast(null, 4L << 20);
        byte[] chunk = new byte[Output.MAX_DATA_BYTES];
        Arrays.fill(chunk, (byte) 'a');
        ObjectNode event = output(2, "2026-12-07T03:00:00.000Z", 2, "stdout", chunk);
        List<JsonNode> page = new ArrayList<>();
        for (long n = 0; n <= (4L << 20) / chunk.length; n++) {
            page.add(event);
        }
        Asciicast.TooLarge e = assertThrows(Asciicast.TooLarge.class, () -> cast.add(page));
        assertTrue(e.getMessage().contains("more than 4 MiB") && e.getMessage().contains("?request_seq=N"), e.getMessage());
    }
}
