package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.Set;

/**
 * The PostgreSQL key words that {@code normalized} writes in upper case (every other unquoted word is an
 * identifier and is written in lower case, as the server folds it). Mostly the reserved words, the
 * statement verbs and the clause words; unreserved words that are common column names ({@code name},
 * {@code type}, {@code data}, {@code key}, {@code value}, ...) are left out so they read as names.
 */
final class Keywords {

    private static final Set<String> WORDS = Set.of(
            // reserved (kwlist.h RESERVED_KEYWORD)
            "ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC", "BOTH", "CASE", "CAST",
            "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE",
            "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DESC", "DISTINCT", "DO",
            "ELSE", "END", "EXCEPT", "FALSE", "FETCH", "FOR", "FOREIGN", "FROM", "GRANT", "GROUP", "HAVING", "IN",
            "INITIALLY", "INTERSECT", "INTO", "LATERAL", "LEADING", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "NOT",
            "NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "PLACING", "PRIMARY", "REFERENCES", "RETURNING", "SELECT",
            "SESSION_USER", "SOME", "SYMMETRIC", "SYSTEM_USER", "TABLE", "THEN", "TO", "TRAILING", "TRUE", "UNION",
            "UNIQUE", "USER", "USING", "VARIADIC", "WHEN", "WHERE", "WINDOW", "WITH",
            // TYPE_FUNC_NAME_KEYWORD
            "AUTHORIZATION", "BINARY", "COLLATION", "CONCURRENTLY", "CROSS", "CURRENT_SCHEMA", "FREEZE", "FULL",
            "ILIKE", "INNER", "IS", "ISNULL", "JOIN", "LEFT", "LIKE", "NATURAL", "NOTNULL", "OUTER", "OVERLAPS",
            "RIGHT", "SIMILAR", "TABLESAMPLE", "VERBOSE",
            // COL_NAME_KEYWORD: types and function-like constructs
            "BETWEEN", "BIGINT", "BIT", "BOOLEAN", "CHAR", "CHARACTER", "COALESCE", "DEC", "DECIMAL", "EXISTS",
            "EXTRACT", "FLOAT", "GREATEST", "GROUPING", "INOUT", "INT", "INTEGER", "INTERVAL", "LEAST", "NATIONAL",
            "NCHAR", "NONE", "NORMALIZE", "NULLIF", "NUMERIC", "OUT", "OVERLAY", "POSITION", "PRECISION", "REAL",
            "ROW", "SETOF", "SMALLINT", "SUBSTRING", "TIME", "TIMESTAMP", "TREAT", "TRIM", "VALUES", "VARCHAR",
            "XMLATTRIBUTES", "XMLCONCAT", "XMLELEMENT", "XMLEXISTS", "XMLFOREST", "XMLPARSE", "XMLPI", "XMLROOT",
            "XMLSERIALIZE", "XMLTABLE", "JSON_ARRAY", "JSON_OBJECT", "JSON_TABLE", "JSON_VALUE", "JSON_QUERY",
            "JSON_EXISTS", "JSON_SCALAR", "JSON_SERIALIZE", "MERGE_ACTION",
            // statement verbs and clause words (unreserved in the grammar, but read as key words)
            "ABORT", "ALTER", "ALWAYS", "ATOMIC", "BEGIN", "BY", "CALL", "CASCADE", "CHAIN", "CHARACTERISTICS",
            "COMMIT", "CONFLICT", "CONTINUE", "COPY", "CURSOR", "CYCLE", "DEALLOCATE", "DECLARE", "DELETE",
            "DISCARD", "DROP", "ESCAPE", "EXCLUDE", "EXECUTE", "EXPLAIN", "FILTER", "FOLLOWING", "FUNCTION",
            "GENERATED", "HOLD", "IDENTITY", "IF", "INCLUDE", "INDEX", "INHERIT", "INSERT", "INSTEAD", "ISOLATION",
            "LISTEN", "LOCAL", "LOCK", "LOCKED", "MATCHED", "MATERIALIZED", "MERGE", "NO", "NOTHING", "NOTIFY",
            "NOWAIT", "NULLS", "OF", "ORDINALITY", "OTHERS", "OVER", "OVERRIDING", "PARTITION", "PRECEDING",
            "PREPARE", "PREPARED", "PROCEDURE", "PROGRAM", "RECURSIVE", "REFRESH", "RELEASE", "RENAME", "REPEATABLE",
            "REPLACE", "RESET", "RESTART", "RESTRICT", "RETURNS", "REVOKE", "ROLLBACK", "ROWS", "SAVEPOINT",
            "SCHEMA", "SEARCH", "SEQUENCE", "SESSION", "SET", "SETS", "SHARE", "SHOW", "SKIP", "START", "STDIN",
            "STDOUT", "STORED", "TEMP", "TEMPORARY", "TIES", "TRANSACTION", "TRIGGER", "TRUNCATE", "UNBOUNDED",
            "UNLISTEN", "UNLOGGED", "UPDATE", "VACUUM", "VIEW", "WITHIN", "WITHOUT", "WORK", "ZONE", "ADD", "AFTER",
            "BEFORE", "EACH", "EXTENSION", "LANGUAGE", "ROLE", "RULE", "SYSTEM", "TABLES");

    /** Key words written like a call, {@code COALESCE(a, b)}: no space before their parenthesis in {@code normalized}. */
    private static final Set<String> CALL_LIKE = Set.of("ARRAY", "ROW", "COALESCE", "NULLIF", "GREATEST", "LEAST",
            "GROUPING", "EXTRACT", "POSITION", "SUBSTRING", "TRIM", "OVERLAY", "CAST", "TREAT", "NORMALIZE", "LEFT",
            "RIGHT", "CHAR", "CHARACTER", "VARCHAR", "NUMERIC", "DECIMAL", "DEC", "FLOAT", "BIT", "TIME", "TIMESTAMP",
            "INTERVAL", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "XMLATTRIBUTES",
            "XMLCONCAT", "XMLELEMENT", "XMLEXISTS", "XMLFOREST", "XMLPARSE", "XMLPI", "XMLROOT", "XMLSERIALIZE",
            "XMLTABLE", "JSON_ARRAY", "JSON_OBJECT", "JSON_TABLE", "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS",
            "JSON_SCALAR", "JSON_SERIALIZE", "MERGE_ACTION", "ANY", "SOME");

    private Keywords() {
    }

    /** Whether {@code upper} (an unquoted word in upper case) is written as a key word. */
    static boolean isKeyword(String upper) {
        return WORDS.contains(upper);
    }

    /** Whether key word {@code upper} is written directly against its parenthesis, like a function name. */
    static boolean isCallLike(String upper) {
        return CALL_LIKE.contains(upper);
    }
}
