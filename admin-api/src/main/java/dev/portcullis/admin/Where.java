package dev.portcullis.admin;

import io.quarkus.panache.common.Parameters;

/** The where clause of a listing's Panache query, built from its filters: a null value does not filter. */
public final class Where {
    private final StringBuilder query = new StringBuilder("1 = 1");
    private final Parameters parameters = new Parameters();

    /** Adds {@code condition}, which names parameter {@code name}, when {@code value} is not null. */
    public Where and(String condition, String name, Object value) {
        if (value != null) {
            query.append(" and ").append(condition);
            parameters.and(name, value);
        }
        return this;
    }

    /** Adds a condition without parameters. */
    public Where and(String condition) {
        query.append(" and ").append(condition);
        return this;
    }

    /** Adds a condition on two parameters. */
    public Where and(String condition, String name, Object value, String otherName, Object otherValue) {
        query.append(" and ").append(condition);
        parameters.and(name, value).and(otherName, otherValue);
        return this;
    }

    public String query() {
        return query.toString();
    }

    public Parameters parameters() {
        return parameters;
    }
}
