package dev.portcullis.gateway.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The input of every decision (contract v2, policies-rego/schema/): who, on which connection, from where, with
 * which grants, and, for {@code request}, what. No session id: a decision must not depend on which session asks,
 * so the shared cache serves every session of an identity. Typed here so the gateway can only send what the
 * contract defines.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record DecisionInput(int contract, IdentityInput identity, ConnectionInput connection, SessionInput session,
        List<GrantInput> grants, @JsonInclude(JsonInclude.Include.NON_NULL) Object request) {

    public static final int CONTRACT_VERSION = 2;

    public record IdentityInput(String subject, String name, List<String> groups, @JsonProperty("client_id") String clientId,
            String kind) {
    }

    public record ConnectionInput(String name, String type, Map<String, String> tags) {
    }

    /** Where the session comes from. */
    public record SessionInput(@JsonProperty("source_ip") String sourceIp) {
    }

    public record GrantInput(String scope, @JsonProperty("expires_at") String expiresAt) {
    }

    /** The parts that stay the same for a whole session. */
    public record SessionContext(IdentityInput identity, ConnectionInput connection, SessionInput session) {
        public static SessionContext of(Identity identity, TargetConnection connection, String sourceIp) {
            return new SessionContext(
                    new IdentityInput(identity.subject(), identity.name(), identity.groups(), identity.clientId(),
                            identity.kind().name().toLowerCase(Locale.ROOT)),
                    new ConnectionInput(connection.name(), connection.type(), connection.tags()),
                    new SessionInput(sourceIp));
        }

        /** The input of {@code session} (no request) or of {@code request}, with the identity's active grants. */
        public DecisionInput with(Object request, List<GrantInput> grants) {
            return new DecisionInput(CONTRACT_VERSION, identity, connection, session, grants, request);
        }

        /** The input of {@code mask}: no session, so one plan serves all of this identity's sessions. */
        public MaskInput mask(List<MaskInput.Column> columns, List<GrantInput> grants) {
            return new MaskInput(CONTRACT_VERSION, identity, connection, grants, new MaskInput.Result(columns));
        }
    }

    /** The input of {@code portcullis/mask}: who reads which columns. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record MaskInput(int contract, IdentityInput identity, ConnectionInput connection, List<GrantInput> grants,
            Result result) {

        public record Result(List<Column> columns) {
        }

        /**
         * A result column; {@code schema}, {@code table} and {@code column} are null for a computed one.
         *
         * @param lineage the {@code schema.table.column} sources that flow into it ({@code List<Source>}), or
         *                {@link #UNKNOWN_LINEAGE}
         * @param derived it is not a plain column reference
         */
        public record Column(String name, String type, boolean computed, String schema, String table, String column,
                Object lineage, boolean derived) {
        }

        /** The contract's word for a lineage the gateway cannot tell. */
        public static final String UNKNOWN_LINEAGE = "unknown";
    }
}
