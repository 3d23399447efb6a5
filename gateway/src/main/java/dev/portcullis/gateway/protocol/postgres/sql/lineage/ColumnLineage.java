package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where one output column's values come from.
 *
 * @param sources the table columns whose values flow into it (sorted; empty for a constant)
 * @param derived it is not a plain column reference: a function, operator, cast, aggregate, whole-row value, set
 *                operation, ...
 * @param unknown its sources cannot be told (then {@code sources} is empty and {@code derived} true)
 */
public record ColumnLineage(Set<Source> sources, boolean derived, boolean unknown) {

    public static final ColumnLineage UNKNOWN = new ColumnLineage(Set.of(), true, true);
    /** A value made of no table column: a constant, a parameter, {@code now()}. */
    public static final ColumnLineage CONSTANT = new ColumnLineage(Set.of(), true, false);

    public ColumnLineage {
        sources = Collections.unmodifiableSet(new TreeSet<>(sources));
    }

    static ColumnLineage plain(Source source) {
        return new ColumnLineage(Set.of(source), false, false);
    }

    ColumnLineage asDerived() {
        return derived ? this : new ColumnLineage(sources, true, unknown);
    }

    /** Both together, derived: what an expression over both carries. */
    ColumnLineage and(ColumnLineage other) {
        if (unknown || other.unknown) {
            return UNKNOWN;
        }
        Set<Source> all = new TreeSet<>(sources);
        all.addAll(other.sources);
        return new ColumnLineage(all, true, false);
    }
}
