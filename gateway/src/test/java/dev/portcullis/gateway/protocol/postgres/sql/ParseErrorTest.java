package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.analyze;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.commands;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ParseErrorTest {

    @Test
    void emptyTextOrOnlyCommentsIsNoStatementAndNoError() {
        for (String sql : new String[] {"", "   ", ";", " ; ;; ", "/* nothing */", "-- nothing", "/* a */ -- b\n ;", null}) {
            Analysis a = analyze(sql);
            assertEquals(List.of(), a.statements(), String.valueOf(sql));
            assertNull(a.parseError(), String.valueOf(sql));
        }
    }

    @Test
    void unterminatedStringKeepsTheStatementsBeforeIt() {
        Analysis a = analyze("SELECT 1; DELETE FROM users WHERE name = 'bob");
        assertEquals(List.of("SELECT"), commands(a));
        assertEquals("statement 2: unterminated quoted string at or near \"'bob\"", a.parseError());
    }

    @Test
    void unterminatedCommentIdentifierAndDollarQuoteAreErrors() {
        assertEquals("statement 1: unterminated /* comment at or near \"/* x\"", analyze("SELECT 1 /* x").parseError());
        assertTrue(analyze("SELECT \"abc").parseError().startsWith("statement 1: unterminated quoted identifier"));
        assertTrue(analyze("DO $x$ BEGIN END $y$").parseError().startsWith("statement 1: unterminated dollar-quoted string"));
    }

    @Test
    void syntaxErrorNamesTheStatementAndToken() {
        Analysis a = analyze("SELECT 1; SELECT 1 garbage garbage; SELECT 3");
        assertEquals("statement 2: syntax error at or near \"garbage\"", a.parseError());
        assertEquals(List.of("SELECT", "SELECT", "SELECT"), commands(a), "what could be read is kept");
    }

    @Test
    void severalProblemsAreCountedInOneMessage() {
        assertEquals("statement 1: syntax error at or near \"y\" (and 1 more)", analyze("SELECT 1 x y; SELECT 2 x y").parseError());
    }

    @Test
    void errorMessagesStayShort() {
        Analysis a = analyze("SELECT 1 " + "\"" + "x".repeat(5_000) + "\" y");
        assertNotNull(a.parseError());
        assertTrue(a.parseError().length() <= 200, a.parseError());
        assertTrue(analyze("FOO" + "x".repeat(10_000)).parseError().length() <= 200);
    }

    @Test
    void oneMegabyteInsertIsAnalysedQuickly() {
        StringBuilder sql = new StringBuilder("INSERT INTO t (a, b) VALUES ");
        while (sql.length() < 1_000_000) {
            sql.append("(12345, 'abc'), ");
        }
        sql.append("(1, pg_read_file('x'))");
        Analysis a = analyze(sql.toString());
        assertNull(a.parseError());
        assertEquals(List.of(Sql.write("t")), a.statements().get(0).tables());
        assertEquals(List.of("pg_read_file"), a.statements().get(0).functions(), "a call after the literal rows still counts");
    }

    @Test
    void oneMegabyteOfStatementsStopsAtTheStatementLimit() {
        Analysis a = analyze("SELECT 1;".repeat(120_000));
        assertEquals(SqlAnalyzer.Limits.DEFAULT.maxStatements(), a.statements().size());
        assertTrue(a.parseError().startsWith("statement 1001: too many statements in one query"), a.parseError());
    }

    @Test
    void deepNestingIsRefusedRatherThanOverflowingTheStack() {
        Analysis a = analyze("SELECT " + "(".repeat(200_000) + "1" + ")".repeat(200_000));
        assertTrue(a.parseError().contains("nested too deeply"), a.parseError());
        assertEquals(List.of("SELECT"), commands(a));
    }

    @Test
    void statementsTooLongForTheParserAreReportedNotParsed() {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; sql.length() < 1_000_000; i++) {
            sql.append("f").append(i).append("(c").append(i).append("), ");
        }
        sql.append("1 FROM t");
        Analysis a = analyze(sql.toString());
        assertTrue(a.parseError().contains("too long to analyse"), a.parseError());
        assertTrue(a.statements().get(0).functions().contains("f0"), "the calls are still listed from the tokens");
    }

    @Test
    void hugeLiteralsAndCommentsAreCheap() {
        assertNull(analyze("SELECT '" + "x".repeat(1_000_000) + "'").parseError());
        assertNull(analyze("/*" + "x".repeat(1_000_000) + "*/ SELECT 1").parseError());
        assertNull(analyze("SELECT $$" + ";".repeat(1_000_000) + "$$").parseError());
    }

    @Test
    void arbitraryInputNeverThrows() {
        String[] pieces = {"SELECT", "DELETE", "FROM", "users", "WITH", "x", "AS", "(", ")", ";", "'", "''", "E'\\'", "$$",
            "$a$", "\"", "/*", "*/", "--", "\n", ",", "::", "=", "-", "1", "1.5", "$1", "PREPARE", "EXECUTE", "EXPLAIN",
            "COPY", "TO", "PROGRAM", "SET", "ROLE", "CREATE", "FUNCTION", "BEGIN", "ATOMIC", "END", "CASE", "[", "]",
            "\\", "\u0000", "é", "DO", "CALL", "f(", "INSERT", "INTO", "VALUES", "UPDATE", "MERGE", "USING", "ON", "*"};
        Random random = new Random(42);
        PreparedStatements session = new PreparedStatements();
        for (int round = 0; round < 3_000; round++) {
            StringBuilder sql = new StringBuilder();
            int n = random.nextInt(30);
            for (int i = 0; i < n; i++) {
                sql.append(pieces[random.nextInt(pieces.length)]).append(random.nextBoolean() ? " " : "");
            }
            Analysis a = Sql.ANALYZER.analyze(sql.toString(), session);
            session.apply(a);
            assertNotNull(a.statements());
            assertTrue(a.parseError() == null || a.parseError().length() <= 200);
        }
    }

    /**
     * JSqlParser backtracks exponentially on some short texts (found by fuzzing: its complex mode ran for minutes on
     * the first). Each is cut off at the request's parse budget and fails closed, as SQL the gateway cannot read.
     */
    @Test
    void textThatWouldKeepTheParserBusyForMinutesIsCutOffAndFailsClosed() {
        String found = new String(java.util.Base64.getDecoder().decode("Q09QWSAoU0VMRUNUKCgoKChUTyBTVESxqqveV9tJVEgpKFRPRVJGICcnJycp"),
                java.nio.charset.StandardCharsets.UTF_8);
        for (String sql : new String[] {found, "SELECT(((((x", "SELECT (((((TO STD)))))", "SELECT a FROM t WHERE (((((b = 1 AND (c = 2 OR (d"}) {
            Analysis a = analyze(sql);
            assertNotNull(a.parseError(), sql);
            assertTrue(a.parseError().contains("too complex to analyse within 1000 ms") || a.parseError().contains("syntax error"),
                    sql + ": " + a.parseError());
        }
        Analysis many = analyze("SELECT(((((x; SELECT(((((y; SELECT(((((z; SELECT * FROM users");
        assertTrue(many.parseError().contains("too complex to analyse"), "one budget for the whole request: " + many.parseError());
    }
}
