package dev.portcullis.gateway.protocol.postgres.sql;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One table a statement touches (contract v2 {@code tables[]}). {@code schema} is {@code null} when the
 * statement did not name one; names are lower-cased unless they were quoted, as PostgreSQL folds them.
 *
 * @param access {@link #READ} or {@link #WRITE}
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record TableRef(String schema, String name, String access) {

    public static final String READ = "read";
    public static final String WRITE = "write";

    static TableRef read(String schema, String name) {
        return new TableRef(schema, name, READ);
    }

    static TableRef write(String schema, String name) {
        return new TableRef(schema, name, WRITE);
    }

    TableRef withAccess(String newAccess) {
        return new TableRef(schema, name, newAccess);
    }
}
