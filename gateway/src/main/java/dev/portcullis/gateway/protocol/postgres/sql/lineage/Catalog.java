package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import java.util.List;

/** The relations a query names, resolved as the server resolves them. */
public interface Catalog {

    /**
     * A relation and its columns in order.
     *
     * @param opaque  its columns' values come from elsewhere (a view or materialized view; a foreign or partitioned table
     *                whose rows another relation holds is not opaque: its columns are its own)
     * @param lineage for an opaque relation whose query was followed, each column's lineage, in order; null when not
     *                followed (an opaque relation's columns are then unknown)
     */
    record Relation(String schema, String name, List<String> columns, boolean opaque, List<ColumnLineage> lineage) {
        public Relation {
            columns = List.copyOf(columns);
            if (lineage != null && lineage.size() != columns.size()) {
                throw new IllegalArgumentException("a lineage for each of the " + columns.size() + " columns, not " + lineage.size());
            }
            lineage = lineage == null ? null : List.copyOf(lineage);
        }

        public Relation(String schema, String name, List<String> columns, boolean opaque) {
            this(schema, name, columns, opaque, null);
        }

        /** What its {@code i}-th column carries. */
        ColumnLineage column(int i) {
            if (lineage != null) {
                return lineage.get(i);
            }
            return opaque ? ColumnLineage.UNKNOWN : ColumnLineage.plain(new Source(schema, name, columns.get(i)));
        }
    }

    /**
     * The relation named {@code schema.name} ({@code schema} null: unqualified, found through the search path), or null
     * when this catalog does not know it.
     */
    Relation relation(String schema, String name);
}
