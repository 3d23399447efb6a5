package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One session's memory of its prepared statements, so that a later {@code EXECUTE name} is analysed as the statement
 * it runs. PostgreSQL keeps SQL-level {@code PREPARE name AS ...} and the protocol's named Parse in one namespace
 * (either can be run by the other's means), so both are remembered here: {@link #apply} for the SQL ones,
 * {@link #parsed} and {@link #closed} for the protocol's.
 *
 * <p>{@link SqlAnalyzer#analyze} only reads this memory; the {@code PREPARE}, {@code DEALLOCATE} and
 * {@code DISCARD ALL} of a query take effect when the caller passes the analysis to {@link #apply} once the
 * gateway has let the query through. A statement the gateway refused therefore never becomes something a later
 * {@code EXECUTE} could be judged by.
 *
 * <p>The memory errs towards showing more: PostgreSQL keeps the first of two {@code PREPARE}s of one name and
 * rejects the second, but the gateway cannot tell which of them reached the server, so an {@code EXECUTE}
 * yields every definition given since the name was last deallocated (at most {@value #MAX_DEFINITIONS_PER_NAME};
 * beyond that, the {@code EXECUTE} is reported as unanalysable). At most {@code capacity} names are kept; the
 * oldest is forgotten first, and an {@code EXECUTE} of a forgotten name is reported as unanalysable.
 *
 * <p>Thread-safe, though a session normally uses it from one thread.
 */
public final class PreparedStatements {

    public static final int DEFAULT_CAPACITY = 1_000;
    static final int MAX_DEFINITIONS_PER_NAME = 4;

    /** A change to this memory that an analysed query makes once it runs. */
    public sealed interface Change permits Prepare, Deallocate, DeallocateAll {
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

    /**
     * One {@code PREPARE}: the analysed inner statement, and why it could not be fully analysed, or
     * {@code null} when it could.
     */
    public record Definition(List<StatementInfo> statements, String problem) {
        public Definition {
            statements = List.copyOf(statements);
        }
    }

    private final int capacity;
    private final LinkedHashMap<String, List<Definition>> byName = new LinkedHashMap<>();

    public PreparedStatements() {
        this(DEFAULT_CAPACITY);
    }

    public PreparedStatements(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** Records what {@code analysis} prepares and deallocates; call it once the query has been sent on. */
    public synchronized void apply(Analysis analysis) {
        for (Change change : analysis.sessionChanges()) {
            if (change instanceof Prepare p) {
                List<Definition> definitions = byName.computeIfAbsent(p.name(), k -> new ArrayList<>(1));
                if (definitions.size() <= MAX_DEFINITIONS_PER_NAME) {
                    definitions.add(p.definition());
                }
                while (byName.size() > capacity) {
                    String eldest = byName.keySet().iterator().next();
                    byName.remove(eldest);
                }
            } else if (change instanceof Deallocate d) {
                byName.remove(d.name());
            } else {
                byName.clear();
            }
        }
    }

    /** A named Parse the gateway let through: its statement may now be run by {@code EXECUTE name} too. */
    public void parsed(String name, Analysis analysis) {
        if (name.isEmpty()) {
            return; // the unnamed statement cannot be EXECUTEd
        }
        apply(new Analysis(List.of(), null, List.of(new Prepare(name,
                new Definition(analysis.statements(), analysis.parseError())))));
    }

    /** A Close of a named statement: {@code EXECUTE name} no longer runs it. */
    public void closed(String name) {
        apply(new Analysis(List.of(), null, List.of(new Deallocate(name))));
    }

    /** How many names are remembered. */
    public synchronized int size() {
        return byName.size();
    }

    private synchronized List<Definition> definitions(String name) {
        List<Definition> definitions = byName.get(name);
        return definitions == null ? null : List.copyOf(definitions);
    }

    /** A view for one analysis: this memory plus the changes made earlier in the same query, which are not applied yet. */
    static View view(PreparedStatements session) {
        return new View(session);
    }

    static final class View {
        private final PreparedStatements session;
        private final Map<String, List<Definition>> added = new HashMap<>();
        private final Set<String> removed = new HashSet<>();
        private boolean removedAll;
        private final List<Change> changes = new ArrayList<>();

        private View(PreparedStatements session) {
            this.session = session;
        }

        void prepare(String name, Definition definition) {
            added.computeIfAbsent(name, k -> new ArrayList<>(1)).add(definition);
            changes.add(new Prepare(name, definition));
        }

        void deallocate(String name) {
            added.remove(name);
            removed.add(name);
            changes.add(new Deallocate(name));
        }

        void deallocateAll() {
            added.clear();
            removedAll = true;
            changes.add(new DeallocateAll());
        }

        /**
         * Every definition an {@code EXECUTE name} may run, or {@code null} when the name is unknown. More than
         * {@value #MAX_DEFINITIONS_PER_NAME} definitions yield one with a problem.
         */
        List<Definition> lookup(String name) {
            List<Definition> out = new ArrayList<>();
            if (session != null && !removedAll && !removed.contains(name)) {
                List<Definition> remembered = session.definitions(name);
                if (remembered != null) {
                    out.addAll(remembered);
                }
            }
            out.addAll(added.getOrDefault(name, List.of()));
            if (out.isEmpty()) {
                return null;
            }
            if (out.size() > MAX_DEFINITIONS_PER_NAME) {
                return List.of(new Definition(List.of(), "it was prepared more than " + MAX_DEFINITIONS_PER_NAME
                        + " times without DEALLOCATE, so which statement it runs is unknown"));
            }
            return out;
        }

        List<Change> changes() {
            return List.copyOf(changes);
        }
    }
}
