package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.ResultStatement;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Each statement's {@code predicate_columns} for the request decision: the table columns that its predicates,
 * groupings and orderings read ({@code WHERE email LIKE 'a%'} probes a masked column without returning it), or
 * {@code "unknown"}. A query the analysis parsed (at top level, inside {@code EXPLAIN}, {@code PREPARE} or
 * {@code DECLARE ... CURSOR}, the one an {@code EXECUTE} runs) and the query of a {@code COPY ... TO STDOUT} are
 * followed; a statement that names no table reads none; any other statement that names tables (one the parser could
 * not read) is unknown, and so is one whose columns cannot be resolved on the catalog connection.
 */
final class PredicateColumns {

    /** Columns listed per statement; a statement whose predicates read more is unknown. */
    static final int MAX_COLUMNS = 64;

    private PredicateColumns() {
    }

    /**
     * The analysis's statements with their predicate columns, in order.
     *
     * @param resolver what a statement's predicates read, resolved on the catalog connection; null when the gateway
     *                 has no catalog connection (every statement naming a table is then unknown)
     */
    static CompletableFuture<List<StatementInfo>> of(Analysis analysis,
            Function<ResultStatement, CompletableFuture<ColumnLineage>> resolver) {
        List<StatementInfo> statements = analysis.statements();
        List<CompletableFuture<StatementInfo>> filled = new ArrayList<>(statements.size());
        for (StatementInfo s : statements) {
            ResultStatement query = s.parserText() != null ? new ResultStatement(ResultStatements.Kind.QUERY, s.parserText())
                    : copySource(s);
            CompletableFuture<ColumnLineage> read;
            if (query != null && resolver != null) {
                read = resolved(resolver, query);
            } else {
                read = CompletableFuture.completedFuture(s.tables().isEmpty() ? ColumnLineage.CONSTANT : ColumnLineage.UNKNOWN);
            }
            filled.add(read.thenApply(l -> s.withPredicateColumns(input(l))));
        }
        return CompletableFuture.allOf(filled.toArray(CompletableFuture[]::new))
                .thenApply(v -> filled.stream().map(CompletableFuture::join).toList());
    }

    /** What the resolver finds; unknown when it fails, at once or later (the catalog connection is down). */
    private static CompletableFuture<ColumnLineage> resolved(Function<ResultStatement, CompletableFuture<ColumnLineage>> resolver,
            ResultStatement query) {
        try {
            return resolver.apply(query).exceptionally(e -> ColumnLineage.UNKNOWN);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(ColumnLineage.UNKNOWN);
        }
    }

    /** The query whose rows a {@code COPY ... TO STDOUT} writes (for a table, {@code SELECT columns FROM table}). */
    private static ResultStatement copySource(StatementInfo s) {
        if (s.copy() == null || s.copy().source() == null) {
            return null;
        }
        List<ResultStatement> source = ResultStatements.of(s.copy().source());
        return source.size() == 1 && source.get(0).kind() == ResultStatements.Kind.QUERY ? source.get(0) : null;
    }

    private static Object input(ColumnLineage read) {
        if (read.unknown() || read.sources().size() > MAX_COLUMNS) {
            return StatementInfo.UNKNOWN_PREDICATE_COLUMNS;
        }
        return List.copyOf(read.sources());
    }
}
