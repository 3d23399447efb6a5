package dev.portcullis.gateway.protocol.postgres;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.PreparedStatements;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import dev.portcullis.gateway.session.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * A Query, Parse or FunctionCall as the policy decides it: the {@code request} part of the decision input
 * ({@link Input}, contract in policies-rego/schema/request.input.schema.json, protocol {@code postgres}), with the
 * analysis and the text it came from. A COPY TO STDOUT in it is planned before it runs ({@link #prepare()}).
 */
final class PgRequest implements Request {
    /** Texts up to this size may have their decisions remembered by the session (see DecisionMemo). */
    private static final int MAX_MEMO_TEXT_CHARS = 4096;

    /**
     * The decision input's {@code request}: compared by value, so an equal request reuses the session's memo.
     * {@code statements} holds each distinct statement once, in the order of first appearance, and {@code sequence}
     * the statements of the text in order, as indexes into it: a Query of 1,000 {@code INSERT}s of one shape is one
     * statement for the policy to judge, not 1,000, and still says how many it ran and where.
     */
    record Input(String protocol, String message, List<StatementInfo> statements, List<Integer> sequence,
            @JsonProperty("parse_error") String parseError) {
        private static final List<Integer> SEQUENCE_OF_ONE = List.of(0);

        static Input of(String message, List<StatementInfo> inOrder, String parseError) {
            if (inOrder.size() <= 1) { // most requests: nothing to look for, on the per-Query path
                return new Input("postgres", message, inOrder, inOrder.isEmpty() ? List.of() : SEQUENCE_OF_ONE, parseError);
            }
            Map<StatementInfo, Integer> indexes = new HashMap<>();
            List<StatementInfo> distinct = new ArrayList<>();
            List<Integer> sequence = new ArrayList<>(inOrder.size());
            for (StatementInfo s : inOrder) {
                Integer index = indexes.putIfAbsent(s, distinct.size());
                if (index == null) {
                    index = distinct.size();
                    distinct.add(s);
                }
                sequence.add(index);
            }
            return new Input("postgres", message, List.copyOf(distinct), List.copyOf(sequence), parseError);
        }
    }

    /** The {@code details} of its {@code request} event (contract/EVENTS.md): every statement of the text, in order. */
    record Details(List<StatementInfo> statements) {
    }

    static final String QUERY = "query";
    static final String PARSE = "parse";
    static final String FUNCTION_CALL = "function_call";

    private final Input input;
    private final Details details;
    /** The prepared statement a Parse makes ({@code ""} for the unnamed one, and for a Query). */
    private final String statement;
    private final Analysis analysis;
    private final String sql;
    private final boolean memoizable;
    /** Plans the COPY TO STDOUT statements of an analysis; null when results are not masked. */
    private final Function<Analysis, CompletableFuture<List<ResultRelay.CopyPlan>>> copyPlanner;
    private List<ResultRelay.CopyPlan> copies = List.of();

    private PgRequest(Input input, String statement, Analysis analysis, String sql, boolean memoizable,
            Function<Analysis, CompletableFuture<List<ResultRelay.CopyPlan>>> copyPlanner) {
        this.input = input;
        this.details = new Details(analysis == null ? input.statements() : analysis.statements());
        this.statement = statement;
        this.analysis = analysis;
        this.sql = sql;
        this.memoizable = memoizable;
        this.copyPlanner = copyPlanner;
    }

    /**
     * A Query or Parse, analysed.
     *
     * @param statement   the prepared statement a Parse makes ({@code ""}: the unnamed one, or a Query)
     * @param judged      the analysis's statements as the policy judges them, with their predicate columns
     *                    ({@link PredicateColumns})
     * @param copyPlanner plans the COPY TO STDOUT statements of the analysis; null when results are not masked
     */
    static PgRequest sql(String message, String statement, String text, Analysis analysis, List<StatementInfo> judged,
            Function<Analysis, CompletableFuture<List<ResultRelay.CopyPlan>>> copyPlanner) {
        boolean memoizable = text.length() <= MAX_MEMO_TEXT_CHARS && analysis.sessionChanges().isEmpty()
                && analysis.statements().stream().noneMatch(s -> "EXECUTE".equals(s.command()));
        return new PgRequest(Input.of(message, judged, analysis.parseError()), statement, analysis,
                text, memoizable, copyPlanner);
    }

    /** A FunctionCall: the function's OID as the only function of a {@code FUNCTION_CALL} pseudo-statement. */
    static PgRequest functionCall(int functionOid) {
        StatementInfo call = StatementInfo.functionCall(Integer.toUnsignedString(functionOid));
        return new PgRequest(Input.of(FUNCTION_CALL, List.of(call), null), "", null, null, false, null);
    }

    @Override
    public String protocol() {
        return input.protocol();
    }

    @Override
    public String message() {
        return input.message();
    }

    /** The normalised statements (literals replaced), one after the other. */
    @Override
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (StatementInfo s : details.statements()) {
            sb.append(sb.isEmpty() ? "" : "; ").append(s.normalized() == null || s.normalized().isEmpty() ? s.command() : s.normalized());
        }
        return sb.toString();
    }

    @Override
    public Input input() {
        return input;
    }

    @Override
    public Details details() {
        return details;
    }

    @Override
    public String text() {
        return sql;
    }

    @Override
    public boolean memoizable() {
        return memoizable;
    }

    /**
     * It was let through: the session now has what it prepared or deallocated, so that a later {@code EXECUTE} is
     * judged by what it runs. A request that was refused never becomes something an {@code EXECUTE} could run.
     */
    void ran(PreparedStatements prepared) {
        if (analysis == null) {
            return;
        }
        if (!analysis.sessionChanges().isEmpty()) {
            prepared.apply(analysis);
        }
        if (PARSE.equals(input.message())) {
            prepared.parsed(statement, analysis, sql);
        }
    }

    /** Its text's {@code EXECUTE}s and {@code FETCH}es with the queries they run ({@link Analysis#namedResults()}). */
    java.util.Map<Integer, dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.ResultStatement> namedResults() {
        return analysis == null ? java.util.Map.of() : analysis.namedResults();
    }

    /** The plans of its COPY TO STDOUT statements, in order, once prepared. */
    List<ResultRelay.CopyPlan> copies() {
        return copies;
    }

    /** A COPY TO STDOUT sends no RowDescription: its columns are described and planned before it runs. */
    @Override
    public CompletionStage<String> prepare() {
        if (copyPlanner == null || analysis == null || analysis.statements().stream().noneMatch(s -> s.copy() != null && s.copy().toClient())) {
            return CompletableFuture.completedFuture(null);
        }
        return copyPlanner.apply(analysis).handle((plans, failure) -> {
            if (failure != null) {
                return MaskPlanner.rootMessage(failure);
            }
            copies = plans;
            return null;
        });
    }
}
