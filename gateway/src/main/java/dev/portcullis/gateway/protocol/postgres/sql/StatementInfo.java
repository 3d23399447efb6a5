package dev.portcullis.gateway.protocol.postgres.sql;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One statement as the decision contract v2 describes it ({@code input.request.statements[]}); the JSON
 * names are the contract's, and every key is written even when its value is {@code null}.
 *
 * @param command      upper-case verb from the contract's list, {@code OTHER} when it is none of them
 * @param tables       every table touched at any depth, with its access; each (schema, name, access) once, in a
 *                     stable order that is mostly, not always, the order of the text
 * @param functions    every function called, lower-cased, without schema; each once, in a stable order
 * @param hasWhere     the top-level {@code UPDATE}/{@code DELETE} has a {@code WHERE}; {@code false} otherwise
 * @param normalized   the statement with literals replaced by {@code ?} (see {@link SqlAnalyzer} for the form)
 * @param via          {@code null} at top level, else {@code prepare}, {@code execute}, {@code explain} or {@code declare}
 * @param copy         for {@code COPY} only
 * @param setParameter for {@code SET}/{@code RESET} only: the parameter, lower-cased
 * @param preparedName for {@code PREPARE}/{@code EXECUTE}/{@code DEALLOCATE} only (not for {@code DEALLOCATE ALL})
 * @param predicateColumns the table columns its predicates, groupings and orderings read (a list of
 *                     {@code lineage.Source}), or {@link #UNKNOWN_PREDICATE_COLUMNS}; filled in against the catalog
 *                     before the decision ({@link #withPredicateColumns}), null (and left out of the JSON) until then
 * @param parserText   for a query the parser read (SELECT, INSERT, UPDATE, DELETE, MERGE, at top level or wrapped),
 *                     the text it read, literals replaced, which its predicate columns are found from; null otherwise
 *                     (not part of the contract)
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record StatementInfo(
        String command,
        List<TableRef> tables,
        List<String> functions,
        @JsonProperty("has_where") boolean hasWhere,
        String normalized,
        String via,
        CopyInfo copy,
        @JsonProperty("set_parameter") String setParameter,
        @JsonProperty("prepared_name") String preparedName,
        @JsonProperty("predicate_columns") @JsonInclude(JsonInclude.Include.NON_NULL) Object predicateColumns,
        @JsonIgnore String parserText) {

    public static final String VIA_PREPARE = "prepare";
    public static final String VIA_EXECUTE = "execute";
    public static final String VIA_EXPLAIN = "explain";
    public static final String VIA_DECLARE = "declare";
    /** {@code predicate_columns} when the columns a statement's predicates read cannot be told. */
    public static final String UNKNOWN_PREDICATE_COLUMNS = "unknown";

    public StatementInfo {
        tables = List.copyOf(tables);
        functions = List.copyOf(functions);
    }

    /**
     * Equal when the decision input is: {@code parserText} is left out, so statements that differ only in letter case or
     * literals are one statement to the policy and to the decision memo.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof StatementInfo s && hasWhere == s.hasWhere && java.util.Objects.equals(command, s.command) && tables.equals(s.tables)
                && functions.equals(s.functions) && java.util.Objects.equals(normalized, s.normalized) && java.util.Objects.equals(via, s.via)
                && java.util.Objects.equals(copy, s.copy) && java.util.Objects.equals(setParameter, s.setParameter)
                && java.util.Objects.equals(preparedName, s.preparedName) && java.util.Objects.equals(predicateColumns, s.predicateColumns);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(command, tables, functions, hasWhere, normalized, via, copy, setParameter, preparedName,
                predicateColumns);
    }

    /**
     * The pseudo-statement of a FunctionCall message (contract v2, message {@code function_call}): command
     * {@code FUNCTION_CALL}, the function's OID as its only function, and no text.
     */
    public static StatementInfo functionCall(String functionOid) {
        return new StatementInfo("FUNCTION_CALL", List.of(), List.of(functionOid), false, "", null, null, null, null, List.of(), null);
    }

    /** The same statement, reached another way (an {@code EXECUTE} of a remembered {@code PREPARE}). */
    StatementInfo withVia(String newVia) {
        return new StatementInfo(command, tables, functions, hasWhere, normalized, newVia, copy, setParameter,
                preparedName, predicateColumns, parserText);
    }

    /** The same statement with what its predicates read. */
    public StatementInfo withPredicateColumns(Object columns) {
        return new StatementInfo(command, tables, functions, hasWhere, normalized, via, copy, setParameter,
                preparedName, columns, parserText);
    }
}
