package dev.portcullis.contract.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Map;

/**
 * {@code session.started}: an identity opened a session on a connection. Always seq 1.
 *
 * @param identity   who, as the decision input's {@code identity}
 * @param connection on what, as the decision input's {@code connection}
 * @param sourceIp   the client's address
 * @param gateway    the id of the gateway instance that holds the session
 */
public record SessionStarted(Identity identity, Connection connection, String sourceIp, String gateway)
        implements EventBody {
    public static final String TYPE = "session.started";

    @JsonIgnore
    @Override
    public String type() {
        return TYPE;
    }

    /** @param kind {@code machine} or {@code human} */
    public record Identity(String subject, String name, List<String> groups, String clientId, String kind) {
    }

    public record Connection(String name, String type, Map<String, String> tags) {
    }
}
