package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * {@code output}: bytes a terminal protocol sent to the client (reserved for ssh and kubectl exec).
 *
 * @param chunk the bytes, base64
 */
public record Output(String chunk) implements EventBody {
    public static final String TYPE = "output";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }
}
