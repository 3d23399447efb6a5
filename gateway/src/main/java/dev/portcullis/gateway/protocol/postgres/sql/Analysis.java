package dev.portcullis.gateway.protocol.postgres.sql;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The analysis of one query text: the statements part of the contract's {@code input.request}
 * ({@code statements}, {@code parse_error}). {@code sessionChanges} is not part of the contract: it is what
 * {@link PreparedStatements#apply} records once the query runs; nor is {@code namedResults}: for each top-level
 * {@code EXECUTE} and {@code FETCH} (by its index among the text's statements, from 0), the queries whose rows it
 * returns, as the session's memory held them at that point of the text.
 *
 * @param parseError {@code null}, or what could not be read, naming the statement ({@code "statement 2: ..."});
 *                   {@code statements} then holds what could be read
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Analysis(
        List<StatementInfo> statements,
        @JsonProperty("parse_error") String parseError,
        @JsonIgnore List<PreparedStatements.Change> sessionChanges,
        @JsonIgnore Map<Integer, ResultStatements.ResultStatement> namedResults) {

    public Analysis {
        statements = List.copyOf(statements);
        sessionChanges = List.copyOf(sessionChanges);
        namedResults = Map.copyOf(namedResults);
    }

    public Analysis(List<StatementInfo> statements, String parseError) {
        this(statements, parseError, List.of());
    }

    public Analysis(List<StatementInfo> statements, String parseError, List<PreparedStatements.Change> sessionChanges) {
        this(statements, parseError, sessionChanges, Map.of());
    }

    /** Whether this analysis read the session's prepared statements, so it is only valid for that session. */
    boolean readsSession() {
        if (!namedResults.isEmpty()) {
            return true;
        }
        for (StatementInfo s : statements) {
            if ("EXECUTE".equals(s.command())) {
                return true;
            }
        }
        return false;
    }
}
