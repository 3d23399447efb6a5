package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The relations of one query level, the level around it (for correlated references) and the CTEs it defines. */
final class Scope {
    final Scope outer;
    final List<RangeEntry> rels = new ArrayList<>();
    final Map<String, Output> ctes = new HashMap<>();

    Scope(Scope outer) {
        this.outer = outer;
    }

    /** The CTE of that name in scope, innermost first; null when none. */
    Output cte(String name) {
        for (Scope s = this; s != null; s = s.outer) {
            Output o = s.ctes.get(name);
            if (o != null) {
                return o;
            }
        }
        return null;
    }
}
