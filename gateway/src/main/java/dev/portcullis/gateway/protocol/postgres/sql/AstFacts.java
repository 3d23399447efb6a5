package dev.portcullis.gateway.protocol.postgres.sql;

import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.analyze.Analyze;
import net.sf.jsqlparser.statement.comment.Comment;
import net.sf.jsqlparser.statement.create.index.CreateIndex;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.create.view.AlterView;
import net.sf.jsqlparser.statement.create.view.CreateView;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.drop.Drop;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.truncate.Truncate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.upsert.Upsert;

/**
 * Tables (with access) and functions of a JSqlParser tree.
 *
 * <p>The walk is generic: it follows every field of every JSqlParser node, so a function in {@code ORDER BY},
 * {@code RETURNING}, {@code ON CONFLICT}, a window, a {@code LIMIT} subquery or any clause a visitor forgot is
 * still found. JSqlParser's own {@code TablesNamesFinder} skips several of those. Only the meaning is special-cased:
 * the targets of data-changing statements (at any depth, so a data-modifying CTE counts) are writes, a
 * {@link Column}'s table qualifier is not a table access, and a name a {@code WITH} in scope defines is a CTE,
 * not a table.
 */
final class AstFacts {

    /**
     * Key-word constructs JSqlParser models as function calls although PostgreSQL calls no function for them
     * ({@code ARRAY(subquery)}, {@code ROW(...)}, {@code COALESCE}, {@code x = ANY(...)}, ...). Written with a
     * schema ({@code public.coalesce(x)}) they do call a function, and are reported.
     */
    private static final Set<String> GRAMMAR_CONSTRUCTS = Set.of("array", "row", "coalesce", "nullif", "greatest",
            "least", "grouping", "any", "all", "some", "exists");

    private final Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Object> writeTargets = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Deque<Set<String>> cteScopes = new ArrayDeque<>();
    private final Set<TableRef> tables = new LinkedHashSet<>();
    private final Set<String> functions = new LinkedHashSet<>();

    private AstFacts() {
    }

    record Result(List<TableRef> tables, List<String> functions) {
    }

    static Result of(Statement statement) {
        AstFacts facts = new AstFacts();
        facts.walk(statement);
        return new Result(List.copyOf(facts.tables), List.copyOf(facts.functions));
    }

    static String command(Statement st) {
        if (st instanceof Select) {
            return "SELECT";
        }
        if (st instanceof Insert || st instanceof Upsert) {
            return "INSERT";
        }
        if (st instanceof Update) {
            return "UPDATE";
        }
        if (st instanceof Delete) {
            return "DELETE";
        }
        if (st instanceof Merge) {
            return "MERGE";
        }
        if (st instanceof Truncate) {
            return "TRUNCATE";
        }
        if (st instanceof Drop) {
            return "DROP";
        }
        if (st instanceof Analyze) {
            return "ANALYZE";
        }
        String name = st.getClass().getSimpleName();
        if (name.startsWith("Create")) {
            return "CREATE";
        }
        if (name.startsWith("Alter") || name.startsWith("Rename")) {
            return "ALTER";
        }
        return "OTHER";
    }

    /** The top-level UPDATE or DELETE has a WHERE clause. */
    static boolean hasWhere(Statement st) {
        if (st instanceof Update update) {
            return update.getWhere() != null;
        }
        if (st instanceof Delete delete) {
            return delete.getWhere() != null;
        }
        return false;
    }

    private void walk(Object node) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> collection) {
            for (Object element : collection) {
                walk(element);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getKey());
                walk(e.getValue());
            }
            return;
        }
        if (node instanceof Object[] array) {
            for (Object element : array) {
                walk(element);
            }
            return;
        }
        Class<?> type = node.getClass();
        if (!ParseTree.isParserClass(type) || type.isEnum() || !visited.add(node)) {
            return;
        }
        registerWriteTargets(node);
        if (node instanceof Table table) {
            record(table);
        } else if (node instanceof Function function) {
            List<String> parts = function.getMultipartName();
            if (parts != null && !parts.isEmpty()) {
                String name = Identifiers.asciiLower(Identifiers.ofRaw(parts.get(parts.size() - 1)));
                if (parts.size() > 1 || !GRAMMAR_CONSTRUCTS.contains(name)) {
                    functions.add(name);
                }
            }
        } else if (node instanceof AnalyticExpression analytic && analytic.getName() != null) {
            functions.add(Identifiers.asciiLower(Identifiers.ofRaw(analytic.getName())));
        }
        List<WithItem<?>> withItems = withItemsOf(node);
        if (withItems == null || withItems.isEmpty()) {
            walkFields(node);
            return;
        }
        Set<String> scope = new HashSet<>();
        cteScopes.push(scope);
        try {
            boolean recursive = withItems.stream().anyMatch(WithItem::isRecursive);
            if (recursive) {
                withItems.forEach(w -> scope.add(cteName(w)));
            }
            for (WithItem<?> w : withItems) {
                walk(w);
                scope.add(cteName(w));
            }
            walkFields(node);
        } finally {
            cteScopes.pop();
        }
    }

    private void walkFields(Object node) {
        for (Field f : ParseTree.fields(node.getClass())) {
            try {
                walk(f.get(node));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + f + " of the SQL parse tree", e);
            }
        }
    }

    private static List<WithItem<?>> withItemsOf(Object node) {
        if (node instanceof Select s) {
            return s.getWithItemsList();
        }
        if (node instanceof Insert s) {
            return s.getWithItemsList();
        }
        if (node instanceof Update s) {
            return s.getWithItemsList();
        }
        if (node instanceof Delete s) {
            return s.getWithItemsList();
        }
        if (node instanceof Merge s) {
            return s.getWithItemsList();
        }
        return null;
    }

    private static String cteName(WithItem<?> w) {
        return w.getAlias() == null ? "" : Identifiers.ofRaw(w.getAlias().getName());
    }

    private void registerWriteTargets(Object node) {
        if (node instanceof Insert s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Update s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Delete s) {
            writeTargets.add(s.getTable());
            if (s.getTables() != null) {
                writeTargets.addAll(s.getTables());
            }
        } else if (node instanceof Merge s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Upsert s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Truncate s) {
            writeTargets.add(s.getTable());
            if (s.getTables() != null) {
                writeTargets.addAll(s.getTables());
            }
        } else if (node instanceof Drop s) {
            writeTargets.add(s.getName());
        } else if (node instanceof Alter s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof AlterView s) {
            writeTargets.add(s.getView());
        } else if (node instanceof CreateTable s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof CreateView s) {
            writeTargets.add(s.getView());
        } else if (node instanceof CreateIndex s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Analyze s) {
            writeTargets.add(s.getTable());
        } else if (node instanceof Comment s) {
            writeTargets.add(s.getTable());
            writeTargets.add(s.getView());
        } else if (node instanceof PlainSelect s) {
            // SELECT ... INTO t creates t
            if (s.getIntoTables() != null) {
                writeTargets.addAll(s.getIntoTables());
            }
            writeTargets.add(s.getIntoTempTable());
        }
        writeTargets.remove(null);
    }

    private void record(Table table) {
        String name = Identifiers.ofRaw(table.getName());
        if (name == null || name.isEmpty()) {
            return;
        }
        String schema = Identifiers.ofRaw(table.getSchemaName());
        boolean write = writeTargets.contains(table);
        if (!write && schema == null && isCte(name)) {
            return;
        }
        tables.add(write ? TableRef.write(schema, name) : TableRef.read(schema, name));
    }

    private boolean isCte(String name) {
        for (Set<String> scope : cteScopes) {
            if (scope.contains(name)) {
                return true;
            }
        }
        return false;
    }
}
