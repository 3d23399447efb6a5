package dev.portcullis.gateway.protocol.postgres.sql;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The analysis of one query text: the statements part of the contract's {@code input.request}
 * ({@code statements}, {@code parse_error}). {@code sessionChanges} is not part of the contract: it is what
 * {@link PreparedStatements#apply} records once the query runs.
 *
 * @param parseError {@code null}, or what could not be read, naming the statement ({@code "statement 2: ..."});
 *                   {@code statements} then holds what could be read
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Analysis(
        List<StatementInfo> statements,
        @JsonProperty("parse_error") String parseError,
        @JsonIgnore List<PreparedStatements.Change> sessionChanges) {

    public Analysis {
        statements = List.copyOf(statements);
        sessionChanges = List.copyOf(sessionChanges);
    }

    public Analysis(List<StatementInfo> statements, String parseError) {
        this(statements, parseError, List.of());
    }

    /** Whether this analysis read the session's prepared statements, so it is only valid for that session. */
    boolean readsSession() {
        for (StatementInfo s : statements) {
            if ("EXECUTE".equals(s.command())) {
                return true;
            }
        }
        return false;
    }
}
