package dev.portcullis.gateway.protocol.postgres;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.sql.Analysis;
import dev.portcullis.gateway.sql.PreparedStatements;
import dev.portcullis.gateway.sql.AnalysisCache;
import dev.portcullis.gateway.sql.StatementInfo;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Turns the PostgreSQL messages that carry meaning into {@code request} inputs for the policy layer (contract
 * v1): a Query's statements, a Parse's statement, a FunctionCall's function. Holds the session's SQL-level
 * prepared statements so an {@code EXECUTE} is judged by what it runs.
 */
final class PgRequests {
    /** The {@code request} part of the input. */
    record PgRequest(String protocol, String message, List<StatementInfo> statements, @JsonProperty("parse_error") String parseError) {
    }

    /** Texts up to this size may have their decisions remembered by the session (see DecisionMemo). */
    private static final int MAX_MEMO_TEXT_CHARS = 4096;

    /**
     * A request awaiting its decision.
     *
     * @param request    the {@code request} part of the input, comparable by value
     * @param memoizable whether the input depends on nothing but {@code request} in this session (no session
     *                   state read or changed, and small enough to keep)
     */
    record Pending(PgRequest request, DecisionInput input, Analysis analysis, boolean memoizable, String sql) {
        /** The same, for an equal request instance. */
        Pending with(PgRequest equal) {
            return equal == request ? this : new Pending(equal, input, analysis, memoizable, sql);
        }
    }

    private final AnalysisCache analyzer;
    private final DecisionInput.SessionContext context;
    private final PreparedStatements prepared = new PreparedStatements();

    PgRequests(AnalysisCache analyzer, DecisionInput.SessionContext context) {
        this.analyzer = analyzer;
        this.context = context;
    }

    /** The SQL text a Query or Parse carries. */
    static String text(byte type, ByteBuf frame) {
        ByteBuf buf = frame.duplicate().skipBytes(5);
        if (type == PgProtocol.PARSE) {
            PgStrings.read(buf); // the prepared statement's name
        }
        return PgStrings.read(buf);
    }

    Pending sql(byte type, String text) {
        Analysis analysis = analyzer.analyze(text, prepared);
        boolean memoizable = text.length() <= MAX_MEMO_TEXT_CHARS && analysis.sessionChanges().isEmpty()
                && analysis.statements().stream().noneMatch(s -> "EXECUTE".equals(s.command()));
        String message = type == PgProtocol.PARSE ? "parse" : "query";
        PgRequest request = new PgRequest("postgres", message, analysis.statements(), analysis.parseError());
        return new Pending(request, context.with(request), analysis, memoizable, text);
    }

    Pending functionCall(ByteBuf frame) {
        int oid = frame.getInt(frame.readerIndex() + 5);
        StatementInfo call = StatementInfo.functionCall(Integer.toUnsignedString(oid));
        PgRequest request = new PgRequest("postgres", "function_call", List.of(call), null);
        return new Pending(request, context.with(request), null, false, null);
    }

    /** The request was let through: remember what it prepared or deallocated. */
    void allowed(Pending pending) {
        if (pending.analysis() != null && !pending.analysis().sessionChanges().isEmpty()) {
            prepared.apply(pending.analysis());
        }
    }
}
