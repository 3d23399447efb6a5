package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One session's memory of its named statements, so that a later {@code EXECUTE name} or {@code FETCH cursor} is
 * analysed, and its rows masked, as the query it runs. PostgreSQL keeps SQL-level {@code PREPARE name AS ...} and the
 * protocol's named Parse in one namespace (either can be run by the other's means), so both are remembered here:
 * {@link #apply} for the SQL ones, {@link #parsed} and {@link #closed} for the protocol's. SQL cursors
 * ({@code DECLARE name CURSOR FOR ...}) are a second namespace, forgotten as PostgreSQL drops them: on {@code CLOSE},
 * {@code CLOSE ALL}, {@code DISCARD ALL}, at the end of their transaction unless declared {@code WITH HOLD}, and at a
 * {@code ROLLBACK} of the transaction that declared them even so. The end of a transaction the gateway sees only as an
 * idle backend (an implicit one; a failed one ended by {@code COMMIT}) counts as a commit: the memory then keeps a
 * holdable cursor PostgreSQL dropped, and a later cursor of that name has both queries' lineage (masked more, never
 * less).
 *
 * <p>{@link SqlAnalyzer#analyze} only reads this memory; the {@code PREPARE}, {@code DEALLOCATE}, {@code DECLARE},
 * {@code CLOSE}, {@code COMMIT}/{@code ROLLBACK} and {@code DISCARD ALL} of a query take effect when the caller passes
 * the analysis to {@link #apply} once the gateway has let the query through. A statement the gateway refused therefore
 * never becomes something a later {@code EXECUTE} could be judged by.
 *
 * <p>The memory errs towards showing more: PostgreSQL keeps the first of two {@code PREPARE}s of one name and
 * rejects the second, but the gateway cannot tell which of them reached the server, so an {@code EXECUTE}
 * yields every definition given since the name was last deallocated (at most {@value #MAX_DEFINITIONS_PER_NAME};
 * beyond that, the {@code EXECUTE} is reported as unanalysable); the same holds for cursors. At most {@code capacity}
 * names and {@code maxBytes} of statement text are kept; the oldest name is forgotten first, and an {@code EXECUTE}
 * or {@code FETCH} of a forgotten name is reported as unanalysable (its rows' computed columns are masked whole).
 *
 * <p>Thread-safe, though a session normally uses it from one thread.
 */
public final class PreparedStatements {

    public static final int DEFAULT_CAPACITY = 1_000;
    /** Statement text remembered per session, in chars (about two bytes each). */
    public static final int DEFAULT_MAX_CHARS = 512 * 1024;
    static final int MAX_DEFINITIONS_PER_NAME = 4;

    /** A change to this memory that an analysed query makes once it runs. */
    public sealed interface Change permits Prepare, Deallocate, DeallocateAll, Declare, Close, CloseAll, TransactionEnd {
    }

    /** {@code PREPARE name AS ...}. */
    public record Prepare(String name, Definition definition) implements Change {
    }

    /** {@code DEALLOCATE name}. */
    public record Deallocate(String name) implements Change {
    }

    /** {@code DEALLOCATE ALL} or {@code DISCARD ALL}. */
    public record DeallocateAll() implements Change {
    }

    /** {@code DECLARE name [...] CURSOR [WITH HOLD] FOR query}. */
    public record Declare(String name, Definition definition, boolean hold) implements Change {
    }

    /** {@code CLOSE name}. */
    public record Close(String name) implements Change {
    }

    /** {@code CLOSE ALL} or {@code DISCARD ALL}. */
    public record CloseAll() implements Change {
    }

    /**
     * {@code COMMIT}, {@code ROLLBACK}, or the backend idle again: cursors without {@code WITH HOLD} are gone, and after
     * a rollback so are those the transaction declared {@code WITH HOLD}.
     */
    public record TransactionEnd(boolean rolledBack) implements Change {
    }

    /**
     * One {@code PREPARE} or {@code DECLARE}: the analysed inner statement, why it could not be fully analysed (or
     * {@code null} when it could), and what the rows of its execution are made of (null: not known).
     */
    public record Definition(List<StatementInfo> statements, String problem, ResultStatements.ResultStatement rows) {
        public Definition {
            statements = List.copyOf(statements);
        }

        public Definition(List<StatementInfo> statements, String problem) {
            this(statements, problem, null);
        }

        /** What remembering it costs, in chars of text. */
        int chars() {
            int n = 64;
            for (StatementInfo s : statements) {
                n += 64 + length(s.normalized()) + length(s.parserText());
            }
            return n + (rows == null ? 0 : length(rows.parserText()));
        }

        private static int length(String s) {
            return s == null ? 0 : s.length();
        }
    }

    /** A name in one of the two namespaces. */
    record Key(boolean cursor, String name) {
    }

    /**
     * A definition, whether (a cursor) it outlives its transaction, and whether (a holdable cursor) the transaction that
     * declared it has ended without a rollback.
     */
    record Remembered(Definition definition, boolean hold, boolean committed) {
        Remembered committedNow() {
            return committed ? this : new Remembered(definition, hold, true);
        }

        /** Whether PostgreSQL still holds it once its transaction ends. */
        boolean survives(boolean rolledBack) {
            return hold && (committed || !rolledBack);
        }
    }

    private final int capacity;
    private final int maxChars;
    private final LinkedHashMap<Key, List<Remembered>> byName = new LinkedHashMap<>();
    private int chars;
    /** How many of the names are cursors' (an idle backend with none has nothing to forget). */
    private int cursors;

    public PreparedStatements() {
        this(DEFAULT_CAPACITY, DEFAULT_MAX_CHARS);
    }

    public PreparedStatements(int capacity) {
        this(capacity, DEFAULT_MAX_CHARS);
    }

    public PreparedStatements(int capacity, int maxChars) {
        if (capacity < 1 || maxChars < 1) {
            throw new IllegalArgumentException("capacity and maxChars must be at least 1, were " + capacity + ", " + maxChars);
        }
        this.capacity = capacity;
        this.maxChars = maxChars;
    }

    /** Records what {@code analysis} prepares, declares, deallocates and closes; call it once the query has been sent on. */
    public synchronized void apply(Analysis analysis) {
        for (Change change : analysis.sessionChanges()) {
            if (change instanceof Prepare p) {
                add(new Key(false, p.name()), new Remembered(p.definition(), false, true));
            } else if (change instanceof Declare d) {
                add(new Key(true, d.name()), new Remembered(d.definition(), d.hold(), false));
            } else if (change instanceof Deallocate d) {
                remove(new Key(false, d.name()));
            } else if (change instanceof Close c) {
                remove(new Key(true, c.name()));
            } else if (change instanceof DeallocateAll) {
                removeIf(k -> !k.cursor(), r -> true);
            } else if (change instanceof CloseAll) {
                removeIf(Key::cursor, r -> true);
            } else if (change instanceof TransactionEnd end) {
                removeIf(Key::cursor, r -> !r.survives(end.rolledBack()));
                byName.forEach((k, list) -> list.replaceAll(Remembered::committedNow));
            }
        }
    }

    /** A named Parse of {@code text} the gateway let through: its statement may now be run by {@code EXECUTE name} too. */
    public void parsed(String name, Analysis analysis, String text) {
        if (name.isEmpty()) {
            return; // the unnamed statement cannot be EXECUTEd
        }
        List<ResultStatements.ResultStatement> rows = ResultStatements.of(text);
        apply(new Analysis(List.of(), null, List.of(new Prepare(name,
                new Definition(analysis.statements(), analysis.parseError(), rows.size() == 1 ? rows.get(0) : null)))));
    }

    /** A Close of a named statement: {@code EXECUTE name} no longer runs it. */
    public void closed(String name) {
        apply(new Analysis(List.of(), null, List.of(new Deallocate(name))));
    }

    /** The backend is idle, in no transaction: cursors without {@code WITH HOLD} are gone. */
    public void transactionEnded() {
        synchronized (this) {
            if (cursors == 0) {
                return; // the usual case, at every ReadyForQuery outside a transaction
            }
        }
        apply(new Analysis(List.of(), null, List.of(new TransactionEnd(false))));
    }

    /** How many names (prepared statements and cursors) are remembered. */
    public synchronized int size() {
        return byName.size();
    }

    private void add(Key key, Remembered remembered) {
        List<Remembered> definitions = byName.get(key);
        if (definitions == null) {
            definitions = new ArrayList<>(1);
            byName.put(key, definitions);
            cursors += key.cursor() ? 1 : 0;
        }
        if (definitions.size() <= MAX_DEFINITIONS_PER_NAME) {
            definitions.add(remembered);
            chars += remembered.definition().chars();
        }
        while (byName.size() > capacity || (chars > maxChars && !byName.isEmpty())) {
            remove(byName.keySet().iterator().next()); // the eldest name: its EXECUTE or FETCH becomes unanalysable
        }
    }

    private void remove(Key key) {
        List<Remembered> gone = byName.remove(key);
        if (gone != null) {
            gone.forEach(r -> chars -= r.definition().chars());
            cursors -= key.cursor() ? 1 : 0;
        }
    }

    private void removeIf(java.util.function.Predicate<Key> names, java.util.function.Predicate<Remembered> which) {
        Iterator<Map.Entry<Key, List<Remembered>>> it = byName.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Key, List<Remembered>> e = it.next();
            if (names.test(e.getKey())) {
                e.getValue().removeIf(r -> {
                    boolean drop = which.test(r);
                    if (drop) {
                        chars -= r.definition().chars();
                    }
                    return drop;
                });
                if (e.getValue().isEmpty()) {
                    it.remove();
                    cursors -= e.getKey().cursor() ? 1 : 0;
                }
            }
        }
    }

    private synchronized List<Remembered> remembered(Key key) {
        List<Remembered> definitions = byName.get(key);
        return definitions == null ? List.of() : List.copyOf(definitions);
    }

    /** A view for one analysis: this memory plus the changes made earlier in the same query, which are not applied yet. */
    static View view(PreparedStatements session) {
        return new View(session);
    }

    static final class View {
        private final PreparedStatements session;
        private final Map<Key, List<Remembered>> added = new HashMap<>();
        private final Set<Key> removed = new HashSet<>();
        private boolean preparedRemoved;
        private boolean cursorsRemoved;
        private boolean transientCursorsRemoved;
        /** A rollback in this text: the session's holdable cursors its transaction declared are gone too. */
        private boolean uncommittedCursorsRemoved;
        /** A transaction ended earlier in this text: the session's cursors are past their declaring transaction. */
        private boolean sessionCursorsCommitted;
        private final List<Change> changes = new ArrayList<>();

        private View(PreparedStatements session) {
            this.session = session;
        }

        void prepare(String name, Definition definition) {
            added.computeIfAbsent(new Key(false, name), k -> new ArrayList<>(1)).add(new Remembered(definition, false, true));
            changes.add(new Prepare(name, definition));
        }

        void deallocate(String name) {
            forget(new Key(false, name));
            changes.add(new Deallocate(name));
        }

        void deallocateAll() {
            added.keySet().removeIf(k -> !k.cursor());
            preparedRemoved = true;
            changes.add(new DeallocateAll());
        }

        void declare(String name, Definition definition, boolean hold) {
            added.computeIfAbsent(new Key(true, name), k -> new ArrayList<>(1)).add(new Remembered(definition, hold, false));
            changes.add(new Declare(name, definition, hold));
        }

        void close(String name) {
            forget(new Key(true, name));
            changes.add(new Close(name));
        }

        void closeAll() {
            added.keySet().removeIf(Key::cursor);
            cursorsRemoved = true;
            changes.add(new CloseAll());
        }

        void transactionEnded(boolean rolledBack) {
            added.forEach((k, list) -> {
                if (k.cursor()) {
                    list.removeIf(r -> !r.survives(rolledBack));
                    list.replaceAll(Remembered::committedNow);
                }
            });
            transientCursorsRemoved = true;
            // the session's cursors this text has not yet seen committed: a later commit in the text does not bring them back
            uncommittedCursorsRemoved |= rolledBack && !sessionCursorsCommitted;
            sessionCursorsCommitted = true;
            changes.add(new TransactionEnd(rolledBack));
        }

        private void forget(Key key) {
            added.remove(key);
            removed.add(key);
        }

        /**
         * Every definition an {@code EXECUTE name} may run, or {@code null} when the name is unknown. More than
         * {@value #MAX_DEFINITIONS_PER_NAME} definitions yield one with a problem.
         */
        List<Definition> lookup(String name) {
            return lookup(new Key(false, name), "it was prepared");
        }

        /** Every query a {@code FETCH} from cursor {@code name} may read, or {@code null} when the cursor is unknown. */
        List<Definition> cursor(String name) {
            return lookup(new Key(true, name), "it was declared");
        }

        private List<Definition> lookup(Key key, String defined) {
            List<Definition> out = new ArrayList<>();
            boolean allGone = key.cursor() ? cursorsRemoved : preparedRemoved;
            if (session != null && !allGone && !removed.contains(key)) {
                for (Remembered r : session.remembered(key)) {
                    boolean dropped = key.cursor() && ((transientCursorsRemoved && !r.hold())
                            || (uncommittedCursorsRemoved && !r.committed()));
                    if (!dropped) {
                        out.add(r.definition());
                    }
                }
            }
            added.getOrDefault(key, List.of()).forEach(r -> out.add(r.definition()));
            if (out.isEmpty()) {
                return null;
            }
            if (out.size() > MAX_DEFINITIONS_PER_NAME) {
                return List.of(new Definition(List.of(), defined + " more than " + MAX_DEFINITIONS_PER_NAME
                        + " times without DEALLOCATE or CLOSE, so which statement it runs is unknown"));
            }
            return out;
        }

        List<Change> changes() {
            return List.copyOf(changes);
        }
    }
}
