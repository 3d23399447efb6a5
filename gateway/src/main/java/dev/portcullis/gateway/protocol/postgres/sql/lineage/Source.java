package dev.portcullis.gateway.protocol.postgres.sql.lineage;

/** A table column a result column's values come from: {@code schema.table.column}, as the catalog names it. */
public record Source(String schema, String table, String column) implements Comparable<Source> {

    @Override
    public int compareTo(Source o) {
        int c = schema.compareTo(o.schema);
        if (c == 0) {
            c = table.compareTo(o.table);
        }
        return c != 0 ? c : column.compareTo(o.column);
    }

    @Override
    public String toString() {
        return schema + "." + table + "." + column;
    }
}
