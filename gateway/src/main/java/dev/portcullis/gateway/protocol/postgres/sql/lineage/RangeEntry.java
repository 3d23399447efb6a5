package dev.portcullis.gateway.protocol.postgres.sql.lineage;

/**
 * A relation in a {@code FROM} clause as the query sees it.
 *
 * @param alias  the name that qualifies its columns (its alias, else its table name)
 * @param schema its schema when it is a table named with one, for {@code schema.table.column}
 * @param out    its columns; null: a function whose columns are not named, each of which carries {@code any}
 */
record RangeEntry(String alias, String schema, Output out, ColumnLineage any) {

    boolean namesKnown() {
        return out != null;
    }

    /** What its column of that name carries (all of them, should several have it); null when it has none. */
    ColumnLineage column(String name) {
        if (out == null) {
            return any;
        }
        ColumnLineage found = null;
        for (int i = 0; i < out.names().size(); i++) {
            if (name.equals(out.names().get(i))) {
                found = found == null ? out.columns().get(i) : found.and(out.columns().get(i));
            }
        }
        return found;
    }

    /** What a whole-row reference to it ({@code u}, {@code u.*}) carries. */
    ColumnLineage whole() {
        return out == null ? any.asDerived() : out.whole().asDerived();
    }
}
