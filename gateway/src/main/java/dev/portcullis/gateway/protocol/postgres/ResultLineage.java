package dev.portcullis.gateway.protocol.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.ResultStatement;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Catalog;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Lineage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import net.sf.jsqlparser.statement.Statement;

/**
 * The column lineage of a result from the statement that produced it ({@link Lineage}), and the columns its predicates
 * read ({@link Lineage#predicates}), with the relations it names resolved through the target's catalog connection, as
 * that connection's {@code search_path} resolves them. The relations, the lineages and the predicate columns are
 * cached per connection for {@link MaskPlanner#CATALOG_TTL}; the last two are keyed by the statement's parser text,
 * which every execution of one statement shape shares.
 */
final class ResultLineage {

    /** Relations one statement may make the gateway look up; a statement naming more has unknown lineage. */
    static final int MAX_LOOKUPS = 64;
    /** Parser texts longer than this are not cached (the cache stays within tens of megabytes). */
    private static final int MAX_CACHED_TEXT = 4_096;

    private record NameKey(String connection, String schema, String name) {
    }

    private record LineageKey(String connection, String parserText) {
    }

    /** Cached for a name the catalog does not know. */
    private static final Catalog.Relation ABSENT = new Catalog.Relation("", "", List.of(), true);

    private final Cache<NameKey, Catalog.Relation> relations = Caffeine.newBuilder().maximumSize(20_000)
            .expireAfterWrite(MaskPlanner.CATALOG_TTL).build();
    private final Cache<LineageKey, List<ColumnLineage>> lineages = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(MaskPlanner.CATALOG_TTL).build();
    private final Cache<LineageKey, ColumnLineage> predicates = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterWrite(MaskPlanner.CATALOG_TTL).build();
    private final BiFunction<TargetConnection, String, CompletableFuture<List<String[]>>> catalogQuery;

    /** @param catalogQuery runs a query on the target's catalog connection, completing with its rows as text */
    ResultLineage(BiFunction<TargetConnection, String, CompletableFuture<List<String[]>>> catalogQuery) {
        this.catalogQuery = catalogQuery;
    }

    /**
     * The lineage of each of the result's {@code columns} columns: unknown for every column when the statement is
     * unknown (null), cannot be parsed or followed, or its column count is not the result's.
     */
    CompletableFuture<List<ColumnLineage>> of(TargetConnection target, ResultStatement statement, int columns) {
        if (statement == null) {
            return CompletableFuture.completedFuture(all(ColumnLineage.UNKNOWN, columns));
        }
        switch (statement.kind()) {
            case NO_TABLE_DATA -> {
                return CompletableFuture.completedFuture(all(ColumnLineage.CONSTANT, columns));
            }
            case OPAQUE -> {
                return CompletableFuture.completedFuture(all(ColumnLineage.UNKNOWN, columns));
            }
            default -> {
            }
        }
        return follow(target, statement, lineages, (tree, catalog) -> {
            List<ColumnLineage> found = Lineage.of(tree, catalog);
            return found == null ? List.<ColumnLineage>of() : found;
        }, List.of()).thenApply(found -> fit(found, columns));
    }

    /**
     * The columns that the predicates, groupings and orderings of a statement read ({@link Lineage#predicates}):
     * unknown when the statement is not a query ({@code EXPLAIN ANALYZE} runs one, unfollowed), cannot be parsed or
     * followed.
     */
    CompletableFuture<ColumnLineage> predicates(TargetConnection target, ResultStatement statement) {
        if (statement == null || statement.kind() != ResultStatements.Kind.QUERY) {
            return CompletableFuture.completedFuture(ColumnLineage.UNKNOWN);
        }
        return follow(target, statement, predicates, Lineage::predicates, ColumnLineage.UNKNOWN);
    }

    /**
     * What {@code reading} finds in the statement's parse tree with its relations resolved: from the cache, or once the
     * names the tree uses are looked up; {@code unknown} when there is no tree or it names too many relations.
     */
    private <T> CompletableFuture<T> follow(TargetConnection target, ResultStatement statement, Cache<LineageKey, T> cache,
            BiFunction<Statement, Catalog, T> reading, T unknown) {
        String text = statement.parserText();
        LineageKey key = text != null && text.length() <= MAX_CACHED_TEXT ? new LineageKey(target.name(), text) : null;
        T cached = key == null ? null : cache.getIfPresent(key);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        Statement tree = statement.tree();
        if (tree == null) {
            return CompletableFuture.completedFuture(unknown);
        }
        Set<NameKey> missing = new LinkedHashSet<>();
        T found = reading.apply(tree, catalog(target, missing));
        if (missing.isEmpty()) {
            return CompletableFuture.completedFuture(remember(cache, key, found));
        }
        if (missing.size() > MAX_LOOKUPS) {
            return CompletableFuture.completedFuture(unknown);
        }
        return lookUp(target, missing).thenApply(v -> remember(cache, key, reading.apply(tree, catalog(target, null))));
    }

    private static <T> T remember(Cache<LineageKey, T> cache, LineageKey key, T found) {
        if (key != null) {
            cache.put(key, found);
        }
        return found;
    }

    /** The lineage if it describes a result of that many columns; else it is not this result's, and unknown. */
    private static List<ColumnLineage> fit(List<ColumnLineage> lineage, int columns) {
        return lineage.size() == columns ? lineage : all(ColumnLineage.UNKNOWN, columns);
    }

    private static List<ColumnLineage> all(ColumnLineage each, int columns) {
        return Collections.nCopies(columns, each);
    }

    /** The cached relations; a name not cached yet is added to {@code missing} (when given) and unknown for now. */
    private Catalog catalog(TargetConnection target, Set<NameKey> missing) {
        return (schema, name) -> {
            NameKey k = new NameKey(target.name(), schema, name);
            Catalog.Relation r = relations.getIfPresent(k);
            if (r == null && missing != null) {
                missing.add(k);
            }
            return r == ABSENT ? null : r;
        };
    }

    /**
     * Looks the names up as the catalog connection's search path resolves them ({@code to_regclass}), with their
     * columns in order. A view or materialized view outside the system schemas is opaque: its columns' values come
     * from its query, which is not followed.
     */
    private CompletableFuture<Void> lookUp(TargetConnection target, Set<NameKey> names) {
        List<NameKey> ordered = new ArrayList<>(names);
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < ordered.size(); i++) {
            NameKey k = ordered.get(i);
            String qualified = (k.schema() == null ? "" : quoteIdent(k.schema()) + ".") + quoteIdent(k.name());
            values.append(i == 0 ? "" : ", ").append('(').append(i).append(", ").append(literal(qualified)).append(')');
        }
        String sql = "SELECT q.i, n.nspname, c.relname, c.relkind, a.attname FROM (VALUES " + values + ") q(i, name)"
                + " JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(q.name)"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY q.i, a.attnum";
        CompletableFuture<List<String[]>> answer;
        try {
            answer = catalogQuery.apply(target, sql);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e); // fails the plan, never the relay
        }
        return answer.thenAccept(rows -> {
            Map<Integer, List<String>> columns = new HashMap<>();
            Map<Integer, String[]> relation = new HashMap<>();
            for (String[] r : rows) {
                int i = Integer.parseInt(r[0]);
                relation.putIfAbsent(i, r);
                List<String> cols = columns.computeIfAbsent(i, x -> new ArrayList<>());
                if (r[4] != null) {
                    cols.add(r[4]);
                }
            }
            for (int i = 0; i < ordered.size(); i++) {
                String[] r = relation.get(i);
                Catalog.Relation found = ABSENT;
                if (r != null) {
                    found = new Catalog.Relation(r[1], r[2], columns.get(i), opaque(r[1], r[3]));
                }
                relations.put(ordered.get(i), found);
            }
        });
    }

    /**
     * Whether a relation's columns hold values the lineage does not follow: a view's or materialized view's come from
     * its query (the system schemas' views hold no user data and count as tables).
     */
    static boolean opaque(String schema, String relkind) {
        boolean view = "v".equals(relkind) || "m".equals(relkind);
        return view && !"pg_catalog".equals(schema) && !"information_schema".equals(schema);
    }

    private static String quoteIdent(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** An escape string constant: reads the same whatever standard_conforming_strings says. */
    private static String literal(String text) {
        return "E'" + text.replace("\\", "\\\\").replace("'", "''").replace("\0", "") + "'";
    }
}
