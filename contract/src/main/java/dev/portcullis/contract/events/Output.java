package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code output}: bytes of an interactive request's streams (an SSH shell or exec, a {@code kubectl exec}), in the
 * order they passed the gateway. A stream's bytes are the concatenation of its events' {@code data}.
 *
 * @param requestSeq the seq of the {@code request} event whose streams these are
 * @param stream     {@code stdin}, {@code stdout} or {@code stderr} (a terminal's output is {@code stdout}), or
 *                   {@code resize}: the terminal changed size, and the data is the ASCII text {@code COLSxROWS}
 * @param data       the bytes, base64 (RFC 4648, with padding), at most {@link #MAX_DATA_BYTES} before encoding
 */
public record Output(long requestSeq, String stream, String data) implements EventBody {
    public static final String TYPE = "output";
    /** The most bytes one event carries; a longer write is recorded as several events. */
    public static final int MAX_DATA_BYTES = 48 * 1024;

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }
}
