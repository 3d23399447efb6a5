package dev.portcullis.gateway.protocol.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.ResultStatement;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Catalog;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.ColumnLineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Lineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Source;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
    private final ViewQueries viewQueries;

    /** @param catalogQuery runs a query on the target's catalog connection, completing with its rows as text */
    ResultLineage(BiFunction<TargetConnection, String, CompletableFuture<List<String[]>>> catalogQuery) {
        this.catalogQuery = catalogQuery;
        this.viewQueries = new ViewQueries(this::query);
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
            case NAMED -> {
                return ofAny(target, statement.runs(), columns);
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
     * The lineage of rows that any one of {@code runs} may have produced (an {@code EXECUTE} or {@code FETCH} whose name
     * was defined more than once): each column carries what it carries in any of them; unknown when there is none.
     */
    private CompletableFuture<List<ColumnLineage>> ofAny(TargetConnection target, List<ResultStatement> runs, int columns) {
        if (runs.isEmpty()) {
            return CompletableFuture.completedFuture(all(ColumnLineage.UNKNOWN, columns));
        }
        List<CompletableFuture<List<ColumnLineage>>> each = new ArrayList<>(runs.size());
        for (ResultStatement run : runs) {
            each.add(run.kind() == ResultStatements.Kind.QUERY ? of(target, run, columns)
                    : CompletableFuture.completedFuture(all(ColumnLineage.UNKNOWN, columns)));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<ColumnLineage> merged = new ArrayList<>(each.get(0).join());
            for (int r = 1; r < each.size(); r++) {
                List<ColumnLineage> other = each.get(r).join();
                for (int i = 0; i < columns; i++) {
                    merged.set(i, either(merged.get(i), other.get(i)));
                }
            }
            return merged;
        });
    }

    /** What a column carries when its values come from {@code a} or from {@code b}. */
    private static ColumnLineage either(ColumnLineage a, ColumnLineage b) {
        if (a.unknown() || b.unknown()) {
            return ColumnLineage.UNKNOWN;
        }
        Set<Source> sources = new java.util.TreeSet<>(a.sources());
        sources.addAll(b.sources());
        return new ColumnLineage(sources, a.derived() || b.derived(), false);
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
        return lookUp(target, missing, 0, MAX_LOOKUPS).thenApply(v -> remember(cache, key, reading.apply(tree, catalog(target, null))));
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
     * What each of these view columns carries, as its view's query computes it (views over views followed); unknown
     * for a view whose query cannot be read or followed.
     */
    CompletableFuture<Map<Source, ColumnLineage>> viewColumns(TargetConnection target, Collection<Source> columns) {
        Map<String, CompletableFuture<Catalog.Relation>> views = new HashMap<>();
        for (Source c : columns) {
            views.computeIfAbsent(c.schema() + '.' + c.table(), k -> relation(target, c.schema(), c.table()));
        }
        return CompletableFuture.allOf(views.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            Map<Source, ColumnLineage> out = new HashMap<>();
            for (Source c : columns) {
                Catalog.Relation view = views.get(c.schema() + '.' + c.table()).join();
                int i = view == null || view.lineage() == null ? -1 : view.columns().indexOf(c.column());
                out.put(c, i < 0 ? ColumnLineage.UNKNOWN : view.lineage().get(i));
            }
            return out;
        });
    }

    /**
     * The relation {@code schema.name} (qualified: the search path does not matter), with the lineage of its columns
     * when it is a view; null when the catalog does not know it.
     */
    private CompletableFuture<Catalog.Relation> relation(TargetConnection target, String schema, String name) {
        NameKey k = new NameKey(target.name(), schema, name);
        Catalog.Relation cached = relations.getIfPresent(k);
        CompletableFuture<Void> known = cached != null ? CompletableFuture.completedFuture(null)
                : lookUp(target, new LinkedHashSet<>(Set.of(k)), 0, MAX_LOOKUPS);
        return known.thenApply(v -> {
            Catalog.Relation r = relations.getIfPresent(k);
            return r == ABSENT ? null : r;
        });
    }

    /**
     * Looks the names up as the catalog connection's search path resolves them ({@code to_regclass}), with their
     * columns in order. A view or materialized view outside the system schemas is followed through its query
     * ({@link ViewQueries}) up to {@link ViewQueries#MAX_DEPTH} views deep, within {@code budget} lookups in all; one
     * not followed is not cached (and so unknown to the statement being followed).
     */
    private CompletableFuture<Void> lookUp(TargetConnection target, Set<NameKey> names, int depth, int budget) {
        List<NameKey> ordered = new ArrayList<>(names);
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < ordered.size(); i++) {
            NameKey k = ordered.get(i);
            String qualified = (k.schema() == null ? "" : quoteIdent(k.schema()) + ".") + quoteIdent(k.name());
            values.append(i == 0 ? "" : ", ").append('(').append(i).append(", ").append(literal(qualified)).append(')');
        }
        String sql = "SELECT q.i, n.nspname, c.relname, c.relkind, a.attname, c.oid FROM (VALUES " + values + ") q(i, name)"
                + " JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(q.name)"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY q.i, a.attnum";
        return query(target, sql).thenCompose(rows -> {
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
            Map<NameKey, ViewQueries.View> views = new LinkedHashMap<>();
            for (int i = 0; i < ordered.size(); i++) {
                String[] r = relation.get(i);
                if (r == null) {
                    relations.put(ordered.get(i), ABSENT);
                } else if (!opaque(r[1], r[3])) {
                    relations.put(ordered.get(i), new Catalog.Relation(r[1], r[2], columns.get(i), false));
                } else if (depth < ViewQueries.MAX_DEPTH) {
                    views.put(ordered.get(i), new ViewQueries.View(r[5], new Catalog.Relation(r[1], r[2], columns.get(i), true)));
                }
            }
            return views.isEmpty() ? CompletableFuture.<Void>completedFuture(null) : followViews(target, views, depth, budget - names.size());
        });
    }

    /**
     * Each view's columns' lineage from its query, once the relations its query names are looked up (one level deeper);
     * a view whose query cannot be read or followed keeps unknown columns.
     */
    private CompletableFuture<Void> followViews(TargetConnection target, Map<NameKey, ViewQueries.View> views, int depth, int budget) {
        return viewQueries.read(target, views.values()).thenCompose(trees -> {
            Set<NameKey> missing = new LinkedHashSet<>();
            views.values().forEach(v -> ViewQueries.followed(trees.get(v.oid()), v.relation(), catalog(target, missing)));
            CompletableFuture<Void> deeper = missing.isEmpty() || missing.size() > budget
                    ? CompletableFuture.completedFuture(null) : lookUp(target, missing, depth + 1, budget);
            return deeper.thenRun(() -> views.forEach((k, v) ->
                    relations.put(k, ViewQueries.followed(trees.get(v.oid()), v.relation(), catalog(target, null)))));
        });
    }

    private CompletableFuture<List<String[]>> query(TargetConnection target, String sql) {
        try {
            return catalogQuery.apply(target, sql);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e); // fails the plan, never the relay
        }
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
