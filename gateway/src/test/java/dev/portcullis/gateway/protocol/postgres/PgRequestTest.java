package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request part of the decision input (policies-rego/schema/request.input.schema.json): a repeated statement goes
 * to the policy once, with the text's order in {@code sequence}, while the recording keeps every statement in order.
 */
class PgRequestTest {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PgRequest query(String sql) {
        var analysis = ANALYZER.analyze(sql, null);
        return PgRequest.sql(PgRequest.QUERY, "", sql, analysis, analysis.statements(), null);
    }

    private static List<String> normalized(List<StatementInfo> statements) {
        return statements.stream().map(StatementInfo::normalized).toList();
    }

    @Test
    void aRepeatedStatementIsSentOnceWithTheTextsOrderInTheSequence() {
        PgRequest r = query("SELECT 1; select 2; DROP TABLE t; SELECT 3; DROP TABLE t");
        assertEquals(List.of("SELECT ?", "DROP TABLE t"), normalized(r.input().statements()));
        assertEquals(List.of(0, 0, 1, 0, 1), r.input().sequence());
        assertEquals(List.of("SELECT ?", "SELECT ?", "DROP TABLE t", "SELECT ?", "DROP TABLE t"), normalized(r.details().statements()));
        assertEquals("SELECT ?; SELECT ?; DROP TABLE t; SELECT ?; DROP TABLE t", r.summary());
    }

    @Test
    void aThousandInsertsOfOneShapeAreOneStatementForThePolicy() throws Exception {
        String sql = "INSERT INTO ledger(description, amount) VALUES ('q', 1);".repeat(1_000);
        PgRequest r = query(sql);
        assertEquals(1, r.input().statements().size());
        assertEquals(1_000, r.input().sequence().size());
        assertEquals(1_000, r.details().statements().size());
        JsonNode json = JSON.valueToTree(r.input());
        assertEquals(List.of("protocol", "message", "statements", "sequence", "parse_error"),
                iterable(json.fieldNames()));
    }

    @Test
    void statementsThatDifferInAnyFieldStaySeparate() {
        // same text after normalisation, but one is inside EXPLAIN: two statements for the policy
        PgRequest r = query("SELECT * FROM t; EXPLAIN SELECT * FROM t; SELECT * FROM t");
        assertEquals(3, r.input().statements().size(), () -> r.input().statements().toString());
        assertEquals(List.of(0, 1, 2, 0), r.input().sequence());
    }

    @Test
    void anEmptyQueryHasAnEmptySequence() {
        PgRequest r = query(";");
        assertEquals(List.of(), r.input().statements());
        assertEquals(List.of(), r.input().sequence());
    }

    @Test
    void aFunctionCallIsOneStatementInItsOwnSequence() {
        PgRequest r = PgRequest.functionCall(764);
        assertEquals(List.of(0), r.input().sequence());
        assertEquals(List.of("764"), r.input().statements().get(0).functions());
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }
}
