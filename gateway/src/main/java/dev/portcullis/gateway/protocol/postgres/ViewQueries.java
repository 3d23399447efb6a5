package dev.portcullis.gateway.protocol.postgres;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Catalog;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Lineage;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import net.sf.jsqlparser.statement.Statement;

/**
 * The queries of views and materialized views, read through the catalog connection ({@code pg_get_viewdef}), so that
 * a view's columns carry the lineage of what its query computes: {@code SELECT local FROM v}, where {@code v} is
 * {@code SELECT split_part(email, '@', 1) AS local FROM users}, reads {@code users.email}. A view whose query cannot be
 * read (too long, not parsable, gone) keeps unknown columns.
 */
final class ViewQueries {

    /** Views over views followed at most this deep; a deeper one's columns are unknown. */
    static final int MAX_DEPTH = 8;
    /** A view's query longer than this (in chars) is not read: its columns are unknown. */
    static final int MAX_QUERY_CHARS = 64 * 1024;

    /** A view found in the catalog: its OID, and its relation with columns not followed yet. */
    record View(String oid, Catalog.Relation relation) {
    }

    private final BiFunction<TargetConnection, String, CompletableFuture<List<String[]>>> catalogQuery;

    /** @param catalogQuery runs a query on the target's catalog connection, completing with its rows as text */
    ViewQueries(BiFunction<TargetConnection, String, CompletableFuture<List<String[]>>> catalogQuery) {
        this.catalogQuery = catalogQuery;
    }

    /** The parse trees of the views' queries, by OID; a view whose query cannot be read or parsed is left out. */
    CompletableFuture<Map<String, Statement>> read(TargetConnection target, Collection<View> views) {
        String oids = views.stream().map(v -> Long.toString(Long.parseLong(v.oid()))).collect(Collectors.joining(","));
        String sql = "SELECT c.oid, CASE WHEN length(d.q) <= " + MAX_QUERY_CHARS + " THEN d.q END"
                + " FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.pg_get_viewdef(c.oid) d(q) WHERE c.oid IN (" + oids + ")";
        return catalogQuery.apply(target, sql).thenApply(rows -> {
            Map<String, Statement> trees = new HashMap<>();
            for (String[] r : rows) {
                Statement tree = r[1] == null ? null : tree(r[1]);
                if (tree != null) {
                    trees.put(r[0], tree);
                }
            }
            return trees;
        }).exceptionally(e -> Map.of()); // unread: unknown, as any view the lineage cannot follow
    }

    /** The view with its columns' lineage from its query's tree (null: not read): unchanged when it cannot be followed. */
    static Catalog.Relation followed(Statement tree, Catalog.Relation view, Catalog catalog) {
        if (tree == null) {
            return view;
        }
        List<ColumnLineage> columns = Lineage.of(tree, catalog);
        if (columns == null || columns.size() != view.columns().size()) {
            return view;
        }
        return new Catalog.Relation(view.schema(), view.name(), view.columns(), true, columns);
    }

    private static Statement tree(String query) {
        List<ResultStatements.ResultStatement> statements = ResultStatements.of(query);
        if (statements.size() != 1 || statements.get(0).kind() != ResultStatements.Kind.QUERY) {
            return null;
        }
        return statements.get(0).tree();
    }
}
