package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import dev.portcullis.gateway.protocol.postgres.sql.ParseTree;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.ReturningClause;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.GroupByElement;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.TableStatement;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.update.Update;

/**
 * Column lineage from the parse: for each output column of a row-returning statement, the table columns whose values
 * flow into it, through functions, operators, casts, {@code CASE}, aggregates, windows, whole-row references
 * ({@code u}, {@code u.*}, {@code row_to_json(u)}), set operations, subqueries, CTEs (recursive too), {@code LATERAL},
 * {@code VALUES} and {@code RETURNING}. {@code *} and unqualified names are resolved against a {@link Catalog}.
 *
 * <p>It errs towards more sources, never fewer: every column an output expression mentions counts, including a
 * {@code CASE}'s conditions and a window's {@code PARTITION BY}; a scalar subquery counts with its output columns.
 * What it cannot follow is {@link ColumnLineage#UNKNOWN}: a relation the catalog does not know, a view whose query
 * the catalog did not follow, a column
 * name found nowhere, a function in {@code FROM} without a column list under {@code *}. When even the number of
 * output columns cannot be told, there is no lineage at all ({@code null}). Predicates ({@code WHERE},
 * {@code JOIN ... ON}, {@code GROUP BY}) decide which rows come back, not what they hold, and are not lineage.
 *
 * <p>What they read is told apart ({@link #predicates}): the columns that the predicates, groupings and orderings of
 * every level read ({@code WHERE}, {@code JOIN ... ON}/{@code USING}/{@code NATURAL}, {@code HAVING}, {@code QUALIFY},
 * {@code GROUP BY}, {@code ORDER BY}, {@code DISTINCT ON}), which a query can use to probe values it may not see.
 */
public final class Lineage {

    /** Bounds the work on hostile input: beyond this many expression nodes the statement's lineage is unknown. */
    static final int MAX_NODES = 200_000;

    /** Key words that read as column names to the parser but are values of no table. */
    private static final Set<String> NO_TABLE_NAMES = Set.of("current_user", "session_user", "current_role", "user",
            "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "current_catalog",
            "current_schema", "true", "false", "null", "default");

    private final Catalog catalog;
    private int nodes;
    /** What the predicates, groupings and orderings met so far read. */
    private ColumnLineage probed = ColumnLineage.CONSTANT;

    private Lineage(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Thrown when the lineage cannot be followed; the statement's is then {@code null}. */
    private static final class Unfollowable extends RuntimeException {
        Unfollowable() {
            super(null, null, false, false);
        }
    }

    /**
     * The lineage of each output column of {@code statement}, in order; an empty list for a statement that returns no
     * rows; null when not even the number of output columns can be told.
     */
    public static List<ColumnLineage> of(Statement statement, Catalog catalog) {
        try {
            Output out = new Lineage(catalog).statement(statement);
            return out == null ? null : List.copyOf(out.columns());
        } catch (Unfollowable | StackOverflowError e) {
            return null;
        }
    }

    /**
     * The columns that the predicates, groupings and orderings of {@code statement} read, at every level (subqueries,
     * CTEs, derived tables): empty sources when none does, {@link ColumnLineage#UNKNOWN} when they cannot be told (a
     * relation the catalog does not know, a view, a statement other than SELECT, INSERT, UPDATE, DELETE).
     */
    public static ColumnLineage predicates(Statement statement, Catalog catalog) {
        if (!(statement instanceof Select || statement instanceof Insert || statement instanceof Update
                || statement instanceof Delete)) {
            return ColumnLineage.UNKNOWN;
        }
        try {
            Lineage lineage = new Lineage(catalog);
            lineage.statement(statement);
            return lineage.probed;
        } catch (RuntimeException | StackOverflowError e) {
            return ColumnLineage.UNKNOWN; // also a parse tree of a shape this walk does not expect: unknown, never fewer
        }
    }

    // ---- statements ----------------------------------------------------------------------------------------

    private Output statement(Statement statement) {
        if (statement instanceof Select select) {
            return select(select, null);
        }
        if (statement instanceof Insert insert) {
            return returning(insert.getWithItemsList(), insert.getTable(), null, null, null, insert.getSelect(),
                    insert.getReturningClause());
        }
        if (statement instanceof Update update) {
            return returning(update.getWithItemsList(), update.getTable(), update.getFromItem(), update.getJoins(),
                    update.getWhere(), null, update.getReturningClause());
        }
        if (statement instanceof Delete delete) {
            List<Join> joins = new ArrayList<>();
            if (delete.getUsingList() != null) {
                for (Table t : delete.getUsingList()) {
                    Join j = new Join();
                    j.setRightItem(t);
                    joins.add(j);
                }
            }
            if (delete.getJoins() != null) {
                joins.addAll(delete.getJoins());
            }
            return returning(delete.getWithItemsList(), delete.getTable(), null, joins, delete.getWhere(), null,
                    delete.getReturningClause());
        }
        return null;
    }

    /**
     * The RETURNING list of a data-modifying statement, over its target and the relations it reads; what its
     * {@code WHERE}, join conditions and source query ({@code INSERT ... SELECT}) read is probed.
     */
    private Output returning(List<WithItem<?>> with, Table target, FromItem from, List<Join> joins, Expression where,
            Select source, ReturningClause returning) {
        Scope scope = new Scope(null);
        withItems(with, scope);
        scope.rels.add(rel(target, scope));
        if (from != null) {
            scope.rels.add(rel(from, scope));
        }
        if (joins != null) {
            for (Join j : joins) {
                join(j, scope);
            }
        }
        probe(where, scope);
        if (source != null) {
            select(source, scope);
        }
        if (returning == null || returning.isEmpty()) {
            return new Output(List.of(), List.of());
        }
        return selectItems(returning, scope);
    }

    private Output select(Select select, Scope outer) {
        Scope scope = new Scope(outer);
        withItems(select.getWithItemsList(), scope);
        Output out = selectBody(select, scope);
        if (select.getOrderByElements() != null) {
            for (OrderByElement o : select.getOrderByElements()) {
                read(sortKey(o.getExpression(), out, scope, true));
            }
        }
        return out;
    }

    private Output selectBody(Select select, Scope scope) {
        if (select instanceof PlainSelect plain) {
            return plainSelect(plain, scope);
        }
        if (select instanceof SetOperationList set) {
            return setOperation(set, scope);
        }
        if (select instanceof Values values) {
            return values(values, scope);
        }
        if (select instanceof ParenthesedSelect parenthesed) {
            return select(parenthesed.getSelect(), scope);
        }
        if (select instanceof TableStatement table) {
            return rel(table.getTable(), scope).out(); // TABLE t: SELECT * FROM t
        }
        return null;
    }

    private void withItems(List<WithItem<?>> items, Scope scope) {
        if (items == null) {
            return;
        }
        boolean recursive = items.stream().anyMatch(WithItem::isRecursive);
        for (WithItem<?> w : items) {
            String name = ParseTree.identifier(w.getAlias() == null ? null : w.getAlias().getName());
            if (name == null) {
                throw new Unfollowable();
            }
            List<String> columnNames = null;
            if (w.getWithItemList() != null && !w.getWithItemList().isEmpty()) {
                columnNames = new ArrayList<>();
                for (SelectItem<?> item : w.getWithItemList()) {
                    columnNames.add(ParseTree.identifier(item.getExpression().toString()));
                }
            }
            Output out = recursive ? recursiveCte(w, name, columnNames, scope) : renamed(cteBody(w, scope), columnNames);
            if (out == null) {
                throw new Unfollowable(); // its column count is unknown, so no query over it can be followed
            }
            scope.ctes.put(name, out);
        }
    }

    private Output cteBody(WithItem<?> w, Scope scope) {
        Object body = w.getParenthesedStatement();
        if (body instanceof ParenthesedSelect select) {
            return select(select, scope);
        }
        Statement dml = body instanceof ParenthesedInsert i ? i.getInsert()
                : body instanceof ParenthesedUpdate u ? u.getUpdate()
                : body instanceof ParenthesedDelete d ? d.getDelete() : null;
        return dml == null ? null : statement(dml);
    }

    /**
     * A recursive CTE reads itself: its lineage is the fixed point reached by reading it again with what it was
     * found to carry so far. Sources only grow, and are finite, so it ends; a bound keeps hostile input cheap.
     */
    private Output recursiveCte(WithItem<?> w, String name, List<String> columnNames, Scope scope) {
        Output guess = null;
        for (int round = 0; round < 8; round++) {
            Scope inner = new Scope(scope);
            if (guess != null) {
                inner.ctes.put(name, guess);
            } else if (columnNames != null) {
                inner.ctes.put(name, new Output(columnNames, columnNames.stream().map(n -> ColumnLineage.CONSTANT).toList()));
            }
            Output next = renamed(cteBody(w, inner), columnNames);
            if (next == null) {
                return null;
            }
            if (next.equals(guess)) {
                return next;
            }
            if (guess != null && guess.columns().size() == next.columns().size()) {
                List<ColumnLineage> merged = new ArrayList<>();
                for (int i = 0; i < next.columns().size(); i++) {
                    ColumnLineage a = guess.columns().get(i);
                    ColumnLineage b = next.columns().get(i);
                    merged.add(a.equals(b) ? a : a.and(b));
                }
                next = new Output(next.names(), merged);
            }
            guess = next;
        }
        return null;
    }

    private static Output renamed(Output out, List<String> names) {
        if (out == null || names == null) {
            return out;
        }
        if (names.size() > out.columns().size()) {
            return null;
        }
        List<String> all = new ArrayList<>(out.names());
        for (int i = 0; i < names.size(); i++) {
            all.set(i, names.get(i));
        }
        return new Output(all, out.columns());
    }

    private Output plainSelect(PlainSelect select, Scope scope) {
        if (select.getFromItem() != null) {
            scope.rels.add(rel(select.getFromItem(), scope));
        }
        boolean mergedColumns = false;
        if (select.getJoins() != null) {
            for (Join j : select.getJoins()) {
                // USING and NATURAL merge columns under *: the count is exact only without *
                mergedColumns |= j.isNatural() || (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty());
                join(j, scope);
            }
        }
        Output out = mergedColumns && hasStar(select) ? null : selectItems(select.getSelectItems(), scope);
        probe(select.getWhere(), scope);
        probe(select.getHaving(), scope);
        probe(select.getQualify(), scope);
        if (select.getDistinct() != null && select.getDistinct().getOnSelectItems() != null) {
            for (SelectItem<?> item : select.getDistinct().getOnSelectItems()) {
                read(sortKey(item.getExpression(), out, scope, true)); // read as ORDER BY keys are
            }
        }
        GroupByElement groupBy = select.getGroupBy();
        if (groupBy != null) {
            if (groupBy.getGroupByExpressionList() != null) {
                for (Object e : groupBy.getGroupByExpressionList()) {
                    read(sortKey((Expression) e, out, scope, false));
                }
            }
            if (groupBy.getGroupingSets() != null) {
                for (ExpressionList<Expression> set : groupBy.getGroupingSets()) {
                    probe(set, scope);
                }
            }
        }
        return out;
    }

    /** Adds a joined relation to the scope and probes its join condition ({@code ON}, {@code USING}, {@code NATURAL}). */
    private RangeEntry join(Join j, Scope scope) {
        List<RangeEntry> left = List.copyOf(scope.rels);
        RangeEntry right = rel(j.getRightItem(), scope);
        scope.rels.add(right);
        if (j.getOnExpressions() != null) {
            for (Expression on : j.getOnExpressions()) {
                probe(on, scope);
            }
        }
        if (j.getUsingColumns() != null) {
            for (Column c : j.getUsingColumns()) {
                probe(c, scope);
            }
        }
        if (j.isNatural()) {
            // the columns both sides have, which cannot be told when a side's names are not known
            if (!right.namesKnown() || left.stream().anyMatch(r -> !r.namesKnown())) {
                read(ColumnLineage.UNKNOWN);
            } else {
                for (String name : right.out().names()) {
                    for (RangeEntry r : left) {
                        ColumnLineage l = name == null ? null : r.column(name);
                        if (l != null) {
                            read(l.and(right.column(name)));
                        }
                    }
                }
            }
        }
        return right;
    }

    /** Counts what a predicate reads. */
    private void probe(Expression e, Scope scope) {
        if (e != null) {
            read(expression(e, scope));
        }
    }

    /**
     * Adds to what the predicates read. {@code columns} is worked out before {@code probed} is read, since working it
     * out probes the predicates of the subqueries in it.
     */
    private void read(ColumnLineage columns) {
        probed = probed.and(columns);
    }

    /**
     * What a sort or grouping key reads: a position ({@code ORDER BY 2}) is that output column; a bare name is the
     * output column of that name first for {@code ORDER BY} ({@code outputFirst}), the input column first for
     * {@code GROUP BY}, as PostgreSQL resolves them.
     */
    private ColumnLineage sortKey(Expression e, Output out, Scope scope, boolean outputFirst) {
        if (e instanceof LongValue position) {
            long i = position.getValue() - 1;
            return out != null && i >= 0 && i < out.columns().size() ? out.columns().get((int) i) : ColumnLineage.UNKNOWN;
        }
        String bare = e instanceof Column c && (c.getTable() == null || c.getTable().getName() == null)
                ? ParseTree.identifier(c.getColumnName()) : null;
        ColumnLineage byOutput = null;
        if (bare != null && out != null) {
            for (int i = 0; i < out.names().size(); i++) {
                if (bare.equals(out.names().get(i))) {
                    byOutput = byOutput == null ? out.columns().get(i) : byOutput.and(out.columns().get(i));
                }
            }
        }
        if (outputFirst && bare != null && (byOutput != null || out == null)) {
            return byOutput == null ? ColumnLineage.UNKNOWN : byOutput; // no output names: which one it is is unknown
        }
        ColumnLineage byInput = expression(e, scope);
        return byInput.unknown() && byOutput != null ? byOutput : byInput;
    }

    private static boolean hasStar(PlainSelect select) {
        for (SelectItem<?> item : select.getSelectItems()) {
            if (item.getExpression() instanceof AllColumns) {
                return true;
            }
        }
        return false;
    }

    private Output selectItems(List<SelectItem<?>> items, Scope scope) {
        List<String> names = new ArrayList<>();
        List<ColumnLineage> columns = new ArrayList<>();
        for (SelectItem<?> item : items) {
            Expression e = item.getExpression();
            if (e instanceof AllTableColumns all) {
                RangeEntry r = find(scope, all.getTable());
                if (r == null || !r.namesKnown() || hasModifiers(all)) {
                    return null;
                }
                names.addAll(r.out().names());
                columns.addAll(r.out().columns());
            } else if (e instanceof AllColumns all) {
                if (hasModifiers(all)) {
                    return null;
                }
                for (RangeEntry r : scope.rels) {
                    if (!r.namesKnown()) {
                        return null;
                    }
                    names.addAll(r.out().names());
                    columns.addAll(r.out().columns());
                }
            } else {
                names.add(item.getAlias() != null ? ParseTree.identifier(item.getAlias().getName()) : nameOf(e));
                columns.add(expression(e, scope));
            }
        }
        return new Output(names, columns);
    }

    private static boolean hasModifiers(AllColumns all) {
        return (all.getExceptColumns() != null && !all.getExceptColumns().isEmpty())
                || (all.getReplaceExpressions() != null && !all.getReplaceExpressions().isEmpty());
    }

    /** The name PostgreSQL gives an unaliased output column, as far as outer queries may refer to it. */
    private static String nameOf(Expression e) {
        if (e instanceof Column c) {
            return ParseTree.identifier(c.getColumnName());
        }
        if (e instanceof net.sf.jsqlparser.expression.Function f && f.getMultipartName() != null && !f.getMultipartName().isEmpty()) {
            return ParseTree.identifier(f.getMultipartName().get(f.getMultipartName().size() - 1));
        }
        if (e instanceof net.sf.jsqlparser.expression.CastExpression cast && cast.getLeftExpression() != null) {
            return nameOf(cast.getLeftExpression());
        }
        return null;
    }

    private Output setOperation(SetOperationList set, Scope scope) {
        Output result = null;
        for (Select branch : set.getSelects()) {
            Output out = select(branch, scope);
            if (out == null || (result != null && out.columns().size() != result.columns().size())) {
                return null;
            }
            if (result == null) {
                result = new Output(out.names(), out.columns().stream().map(ColumnLineage::asDerived).toList());
            } else {
                List<ColumnLineage> merged = new ArrayList<>();
                for (int i = 0; i < out.columns().size(); i++) {
                    merged.add(result.columns().get(i).and(out.columns().get(i)));
                }
                result = new Output(result.names(), merged);
            }
        }
        return result;
    }

    private Output values(Values values, Scope scope) {
        ExpressionList<?> rows = values.getExpressions();
        if (rows == null || rows.isEmpty()) {
            return null;
        }
        // one row: (a, b) is the list of its cells; several rows: a list of such lists
        List<Object> rowList = new ArrayList<>();
        if (rows instanceof ParenthesedExpressionList<?>) {
            rowList.add(rows);
        } else {
            rowList.addAll(rows);
        }
        List<ColumnLineage> columns = null;
        for (Object row : rowList) {
            List<Expression> cells = new ArrayList<>();
            if (row instanceof ParenthesedExpressionList<?> list) {
                for (Object cell : list) {
                    cells.add((Expression) cell);
                }
            } else {
                cells.add((Expression) row);
            }
            if (columns == null) {
                columns = new ArrayList<>();
                for (Expression cell : cells) {
                    columns.add(expression(cell, scope).asDerived());
                }
            } else if (cells.size() != columns.size()) {
                return null;
            } else {
                for (int i = 0; i < cells.size(); i++) {
                    columns.set(i, columns.get(i).and(expression(cells.get(i), scope)));
                }
            }
        }
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= columns.size(); i++) {
            names.add("column" + i);
        }
        return new Output(names, columns);
    }

    // ---- FROM items ----------------------------------------------------------------------------------------

    private RangeEntry rel(FromItem item, Scope scope) {
        Alias alias = item.getAlias();
        String aliasName = alias == null ? null : ParseTree.identifier(alias.getName());
        List<String> aliasColumns = aliasColumns(alias);
        if (item instanceof Table t) {
            String schema = ParseTree.identifier(t.getSchemaName());
            String name = ParseTree.identifier(t.getName());
            if (name == null) {
                return unknownRel(aliasName);
            }
            Output cte = schema == null ? scope.cte(name) : null;
            if (cte != null) {
                return new RangeEntry(aliasName != null ? aliasName : name, null, renamed(cte, aliasColumns), null);
            }
            Catalog.Relation r = catalog.relation(schema, name);
            if (r == null) {
                return unknownRel(aliasName != null ? aliasName : name);
            }
            List<ColumnLineage> columns = new ArrayList<>();
            for (int i = 0; i < r.columns().size(); i++) {
                columns.add(r.column(i));
            }
            Output out = renamed(new Output(r.columns(), columns), aliasColumns);
            return new RangeEntry(aliasName != null ? aliasName : r.name(), aliasName != null ? null : r.schema(), out, null);
        }
        if (item instanceof ParenthesedSelect ps) {
            Output out = renamed(select(ps.getSelect(), scope), aliasColumns);
            return out == null ? unknownRel(aliasName) : new RangeEntry(aliasName, null, out, null);
        }
        if (item instanceof Values v) {
            Output out = renamed(values(v, scope), aliasColumns);
            return out == null ? unknownRel(aliasName) : new RangeEntry(aliasName, null, out, null);
        }
        if (item instanceof TableFunction tf) {
            ColumnLineage args = expression(tf.getFunction(), scope).asDerived();
            if (aliasColumns != null) {
                return new RangeEntry(aliasName, null, new Output(aliasColumns, aliasColumns.stream().map(n -> args).toList()), null);
            }
            return new RangeEntry(aliasName != null ? aliasName : nameOf(tf.getFunction()), null, null, args);
        }
        if (item instanceof ParenthesedFromItem pf) {
            RangeEntry inner = rel(pf.getFromItem(), scope);
            if (pf.getJoins() == null || pf.getJoins().isEmpty()) {
                // (VALUES ...) v(a, b), (SELECT ...) s: the parentheses' alias names the inner relation
                return aliasName == null ? inner : new RangeEntry(aliasName, null, renamed(inner.out(), aliasColumns), inner.any());
            }
            // (a JOIN b): its relations join the scope; the last one stands for the whole under its alias
            RangeEntry last = inner;
            scope.rels.add(last);
            for (Join j : pf.getJoins()) {
                last = join(j, scope);
            }
            scope.rels.remove(last);
            return last;
        }
        return unknownRel(aliasName);
    }

    private static RangeEntry unknownRel(String alias) {
        return new RangeEntry(alias, null, null, ColumnLineage.UNKNOWN);
    }

    private static List<String> aliasColumns(Alias alias) {
        if (alias == null || alias.getAliasColumns() == null || alias.getAliasColumns().isEmpty()) {
            return null;
        }
        return alias.getAliasColumns().stream().map(c -> ParseTree.identifier(c.name)).toList();
    }

    /** The relation a qualifier names ({@code u}, {@code users}, {@code public.users}), innermost level first. */
    private static RangeEntry find(Scope scope, Table qualifier) {
        if (qualifier == null) {
            return null;
        }
        String name = ParseTree.identifier(qualifier.getName());
        String schema = ParseTree.identifier(qualifier.getSchemaName());
        for (Scope s = scope; s != null; s = s.outer) {
            for (RangeEntry r : s.rels) {
                if (name != null && name.equals(r.alias()) && (schema == null || schema.equals(r.schema()))) {
                    return r;
                }
            }
        }
        return null;
    }

    // ---- expressions ---------------------------------------------------------------------------------------

    /** What an expression carries: a plain column keeps its lineage, anything else is derived from all it mentions. */
    private ColumnLineage expression(Expression e, Scope scope) {
        if (e instanceof Column c) {
            return column(c, scope);
        }
        Collector collector = new Collector(scope);
        collector.walk(e);
        return collector.found;
    }

    private ColumnLineage column(Column c, Scope scope) {
        String name = ParseTree.identifier(c.getColumnName());
        Table qualifier = c.getTable();
        boolean qualified = qualifier != null && qualifier.getName() != null && !qualifier.getName().isEmpty();
        if (qualified) {
            RangeEntry r = find(scope, qualifier);
            if (r == null) {
                return ColumnLineage.UNKNOWN; // a composite field ((t.col).f) or a name the query does not define
            }
            ColumnLineage found = r.column(name);
            return found == null ? ColumnLineage.UNKNOWN : found;
        }
        // PostgreSQL looks for a column of that name level by level, innermost first. A relation whose columns are
        // not named (a function without a column list) may hold it: what it carries is counted too, and the search
        // goes on, since the name may be elsewhere.
        ColumnLineage maybe = null;
        for (Scope s = scope; s != null; s = s.outer) {
            ColumnLineage found = null;
            for (RangeEntry r : s.rels) {
                ColumnLineage l = r.namesKnown() ? r.column(name) : null;
                if (l != null) {
                    found = found == null ? l : found.and(l);
                } else if (!r.namesKnown()) {
                    maybe = maybe == null ? r.any() : maybe.and(r.any());
                }
            }
            if (found != null) {
                return maybe == null ? found : found.and(maybe);
            }
        }
        // not a column: a whole-row reference to a relation (SELECT u FROM users u), or a key word
        ColumnLineage other = ColumnLineage.UNKNOWN;
        if (name != null && NO_TABLE_NAMES.contains(name)) {
            other = ColumnLineage.CONSTANT;
        }
        search:
        for (Scope s = scope; s != null; s = s.outer) {
            for (RangeEntry r : s.rels) {
                if (name != null && name.equals(r.alias())) {
                    other = r.whole();
                    break search;
                }
            }
        }
        if (other.unknown() && maybe != null) {
            return maybe;
        }
        return maybe == null ? other : other.and(maybe);
    }

    /** Walks an expression and gathers what every column, whole-row reference and subquery in it carries. */
    private final class Collector {
        final Scope scope;
        ColumnLineage found = ColumnLineage.CONSTANT;

        Collector(Scope scope) {
            this.scope = scope;
        }

        void walk(Object node) {
            if (node == null) {
                return;
            }
            if (++nodes > MAX_NODES) {
                throw new Unfollowable();
            }
            if (node instanceof Collection<?> collection) {
                for (Object element : collection) {
                    walk(element);
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
            if (!ParseTree.isParserClass(type) || type.isEnum()) {
                return;
            }
            if (node instanceof Column c) {
                found = found.and(column(c, scope));
            } else if (node instanceof AllTableColumns all) {
                RangeEntry r = find(scope, all.getTable());
                found = found.and(r == null ? ColumnLineage.UNKNOWN : r.whole());
            } else if (node instanceof AllColumns) {
                return; // count(*): no value of any column
            } else if (node instanceof Select sub) {
                Output out = select(sub, scope);
                found = found.and(out == null ? ColumnLineage.UNKNOWN : out.whole());
            } else {
                for (Field f : ParseTree.fields(type)) {
                    try {
                        walk(f.get(node));
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read " + f + " of the SQL parse tree", e);
                    }
                }
            }
        }
    }
}
