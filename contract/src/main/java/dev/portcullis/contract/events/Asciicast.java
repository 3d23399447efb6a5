package dev.portcullis.contract.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A session's interactive streams (its {@code output} events, contract/EVENTS.md) as an asciicast v2 recording, which
 * {@code asciinema play} replays: a header with the terminal's size (the first {@code resize}, recorded from an SSH
 * {@code pty-req} or a Kubernetes exec's first resize message, before any output), then stdout and stderr as
 * {@code o}, stdin as {@code i}, later terminal resizes as {@code r}, each at its time since the first. The bytes of
 * each stream are decoded as UTF-8 across event boundaries, so a character split between two events is shown whole;
 * bytes that are not UTF-8 become U+FFFD, since an asciicast holds text. Fed page by page, in seq order; bounded by
 * {@link #MAX_BYTES}. The admin API serves it; tests of the engines render what they recorded with it.
 */
public final class Asciicast {
    public static final String MEDIA_TYPE = "application/x-asciicast";
    /** The most output bytes one asciicast holds; a longer recording is fetched per request ({@code request_seq}). */
    public static final long MAX_BYTES = 64L << 20;

    /** The streams hold more than {@link #MAX_BYTES}; the message says what to do instead. */
    public static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SIZE = Pattern.compile("([1-9][0-9]{0,4})x([1-9][0-9]{0,4})");

    private final Long requestSeq;
    private final long maxBytes;
    private final StringBuilder lines = new StringBuilder();
    private final Map<String, CharsetDecoder> decoders = new HashMap<>();
    private final Map<String, ByteBuffer> pending = new HashMap<>();
    private Instant start;
    private int width = 80;
    private int height = 24;
    private long bytes;

    /** @param requestSeq only the streams of this request; {@code null}: all of the session's */
    public Asciicast(Long requestSeq) {
        this(requestSeq, MAX_BYTES);
    }

    Asciicast(Long requestSeq, long maxBytes) {
        this.requestSeq = requestSeq;
        this.maxBytes = maxBytes;
    }

    /**
     * The next events of the recording, in seq order, as stored (events of other types and requests are skipped).
     *
     * @throws TooLarge past {@link #MAX_BYTES} of streams
     */
    public void add(List<? extends JsonNode> events) {
        for (JsonNode e : events) {
            if (!"output".equals(e.path("type").asText()) || requestSeq != null && e.path("request_seq").asLong() != requestSeq) {
                continue;
            }
            byte[] data;
            try {
                data = Base64.getDecoder().decode(e.path("data").asText());
            } catch (IllegalArgumentException notBase64) {
                continue; // a verified event of another writer's making: shown nowhere rather than garbled
            }
            bytes += data.length;
            if (bytes > maxBytes) {
                throw new TooLarge("the " + (requestSeq == null ? "session's" : "request's")
                        + " streams hold more than " + (maxBytes >> 20) + " MiB, more than one asciicast holds"
                        + (requestSeq == null ? "; fetch one request's at a time with ?request_seq=N (the seq of its request event)" : ""));
            }
            Instant at = Instant.parse(e.path("at").asText());
            if (start == null) {
                start = at;
            }
            String stream = e.path("stream").asText();
            if ("resize".equals(stream)) {
                var size = SIZE.matcher(new String(data, StandardCharsets.US_ASCII));
                if (size.matches()) {
                    if (lines.isEmpty()) { // the size the terminal had from the start: the header's
                        width = Integer.parseInt(size.group(1));
                        height = Integer.parseInt(size.group(2));
                    } else {
                        line(at, "r", size.group());
                    }
                }
                continue;
            }
            String code = "stdin".equals(stream) ? "i" : "o";
            String text = decode(stream, data);
            if (!text.isEmpty()) {
                line(at, code, text);
            }
        }
    }

    /** The recording: the header line, then one line per event. */
    public String render() {
        ObjectNode header = JSON.createObjectNode().put("version", 2).put("width", width).put("height", height);
        if (start != null) {
            header.put("timestamp", start.getEpochSecond());
        }
        return header + "\n" + lines;
    }

    private void line(Instant at, String code, String text) {
        double seconds = Duration.between(start, at).toMillis() / 1000.0;
        ArrayNode event = JSON.createArrayNode().add(seconds).add(code).add(text);
        lines.append(event).append('\n');
    }

    /** The stream's bytes so far as text; an incomplete UTF-8 sequence at the end waits for the stream's next bytes. */
    private String decode(String stream, byte[] data) {
        CharsetDecoder decoder = decoders.computeIfAbsent(stream, s -> StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE));
        ByteBuffer left = pending.remove(stream);
        ByteBuffer in;
        if (left == null) {
            in = ByteBuffer.wrap(data);
        } else {
            in = ByteBuffer.allocate(left.remaining() + data.length).put(left).put(data).flip();
        }
        CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
        decoder.decode(in, out, false);
        if (in.hasRemaining()) {
            pending.put(stream, ByteBuffer.allocate(in.remaining()).put(in).flip());
        }
        return out.flip().toString();
    }
}
