package dev.portcullis.gateway.policy;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;

/**
 * A request for the policy layer: a message that carries meaning (a query, a statement to prepare, a function
 * call), who sends it, and on which connection. The text is what the client sent; analysis happens later.
 */
public record PolicyRequest(String sessionId, Identity identity, TargetConnection connection, Kind kind, String text) {
    public enum Kind {
        QUERY, PARSE, FUNCTION_CALL
    }
}
