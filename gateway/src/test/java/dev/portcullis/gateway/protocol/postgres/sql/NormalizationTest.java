package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class NormalizationTest {

    private static String normalized(String sql) {
        return only(sql).normalized();
    }

    @Test
    void differentLiteralsNormalizeIdentically() {
        assertEquals(normalized("SELECT * FROM users WHERE id = 42"), normalized("SELECT * FROM users WHERE id = 7"));
        assertEquals("SELECT * FROM users WHERE id = ?", normalized("SELECT * FROM users WHERE id = 42"));
        assertEquals(normalized("SELECT * FROM t WHERE a = 'x' AND b = 1.5e3"),
                normalized("SELECT * FROM t WHERE a = E'y\\'' AND b = 0x1F"));
    }

    @Test
    void everyKindOfStringBecomesAQuestionMark() {
        assertEquals("SELECT ?, ?, ?, ?, ?, ?", normalized("SELECT 'a', E'\\n', $$b$$, $t$c$t$, B'101', X'ff'"));
        assertEquals("SELECT date ?, INTERVAL ?", normalized("SELECT DATE '2024-01-01', INTERVAL '1 day'"));
    }

    @Test
    void layoutCaseAndCommentsDoNotMatter() {
        String expected = "SELECT a, count(*) FROM t WHERE b IN (?, ?) GROUP BY a";
        assertEquals(expected, normalized("select A,COUNT( * ) from T where B in(1,2) group by A"));
        assertEquals(expected, normalized("SELECT a,\n\tcount(*) /* c */ FROM t -- x\n WHERE b IN ( 1 , 2 ) GROUP BY a"));
    }

    @Test
    void quotedIdentifiersAndParametersAreKeptAsWritten() {
        assertEquals("SELECT \"Name\" FROM \"Users\" WHERE id = $1", normalized("SELECT \"Name\" FROM \"Users\" WHERE id = $1"));
        assertNotEquals(normalized("SELECT * FROM \"Users\""), normalized("SELECT * FROM users"));
    }

    @Test
    void operatorsCastsAndQualifiersKeepTheirShape() {
        assertEquals("SELECT t.a::text, b ->> ?, c[?] FROM s.t WHERE d <> - ?",
                normalized("SELECT t.a::text, b->>'k', c[1] FROM s.t WHERE d<>-5"));
    }

    @Test
    void keyWordsAreUpperCaseAndNamesLowerCase() {
        assertEquals("INSERT INTO orders(id, name) VALUES (?, ?) RETURNING id",
                normalized("insert into Orders (ID, Name) values (1, 'x') returning ID"));
        assertEquals("SELECT COALESCE(a, ?), ARRAY[?, ?] FROM t", normalized("select coalesce(a, 1), array[1, 2] from t"));
    }

    @Test
    void booleansAreLiteralsButNullIsKept() {
        assertEquals("SELECT set_config(?, ?, ?)", normalized("SELECT set_config('role', 'x', false)"));
        assertEquals("SELECT * FROM t WHERE a IS NULL AND b = ?", normalized("SELECT * FROM t WHERE a IS NULL AND b = TRUE"));
    }

    @Test
    void utilityStatementsAreNormalizedToo() {
        assertEquals("SET ROLE postgres", normalized("set role postgres"));
        assertEquals("COPY users TO PROGRAM ?", normalized("copy users to program 'curl x'"));
        assertEquals("DO ?", normalized("DO $$BEGIN PERFORM 1; END$$"));
    }
}
