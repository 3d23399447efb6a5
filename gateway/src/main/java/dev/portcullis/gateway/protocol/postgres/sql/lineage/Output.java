package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import java.util.List;

/**
 * The output of a query as {@link Lineage} follows it: its column names (an entry is null where no name can be told)
 * and their lineages, in order.
 */
record Output(List<String> names, List<ColumnLineage> columns) {

    /** Every column together: what a whole-row value of this output carries. */
    ColumnLineage whole() {
        ColumnLineage all = ColumnLineage.CONSTANT;
        for (ColumnLineage c : columns) {
            all = all.and(c);
        }
        return all;
    }
}
