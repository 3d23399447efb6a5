package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import java.util.List;

/** The relations a query names, resolved as the server resolves them. */
public interface Catalog {

    /**
     * A relation and its columns in order.
     *
     * @param opaque its columns' values come from elsewhere, which this catalog does not follow (a view, a foreign or
     *               partitioned table whose rows another relation holds is not opaque: its columns are its own)
     */
    record Relation(String schema, String name, List<String> columns, boolean opaque) {
        public Relation {
            columns = List.copyOf(columns);
        }
    }

    /**
     * The relation named {@code schema.name} ({@code schema} null: unqualified, found through the search path), or null
     * when this catalog does not know it.
     */
    Relation relation(String schema, String name);
}
