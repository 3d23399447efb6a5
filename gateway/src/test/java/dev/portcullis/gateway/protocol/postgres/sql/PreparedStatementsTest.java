package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.ANALYZER;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.commands;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PreparedStatementsTest {

    private final PreparedStatements session = new PreparedStatements();

    /** Analyses and, as the gateway does once a query is let through, applies. */
    private Analysis run(String sql) {
        Analysis a = ANALYZER.analyze(sql, session);
        session.apply(a);
        return a;
    }

    @Test
    void executeInALaterQueryYieldsTheRememberedStatement() {
        run("PREPARE del AS DELETE FROM users");
        Analysis a = run("EXECUTE del");
        assertNull(a.parseError());
        assertEquals(List.of("EXECUTE", "DELETE"), commands(a));
        StatementInfo inner = a.statements().get(1);
        assertEquals("execute", inner.via());
        assertEquals(List.of(write("users")), inner.tables());
        assertEquals("DELETE FROM users", inner.normalized());
    }

    @Test
    void executeOfANameNeverPreparedHasNoCompanionAndSetsParseError() {
        Analysis a = run("EXECUTE nope");
        assertEquals(List.of("EXECUTE"), commands(a));
        assertEquals("nope", a.statements().get(0).preparedName());
        assertEquals("statement 1: EXECUTE nope: this session has no prepared statement of that name "
                + "(never prepared, deallocated, or forgotten)", a.parseError());
    }

    @Test
    void analysingAloneDoesNotRememberAPrepare() {
        ANALYZER.analyze("PREPARE p AS DELETE FROM users", session);
        assertNotNull(ANALYZER.analyze("EXECUTE p", session).parseError());
        assertEquals(0, session.size());
    }

    @Test
    void deallocateForgetsOneNameAndDeallocateAllForgetsEvery() {
        run("PREPARE a AS SELECT 1; PREPARE b AS SELECT 2; PREPARE c AS SELECT 3");
        run("DEALLOCATE a");
        assertNotNull(run("EXECUTE a").parseError());
        assertNull(run("EXECUTE b").parseError());
        run("DEALLOCATE PREPARE ALL");
        assertNotNull(run("EXECUTE b").parseError());
        assertEquals(0, session.size());
    }

    @Test
    void discardAllForgetsPreparedStatements() {
        run("PREPARE a AS SELECT 1");
        run("DISCARD ALL");
        assertNotNull(run("EXECUTE a").parseError());
    }

    @Test
    void deallocateEarlierInTheSameQueryHides() {
        run("PREPARE a AS DELETE FROM users");
        Analysis a = run("DEALLOCATE a; EXECUTE a");
        assertEquals(List.of("DEALLOCATE", "EXECUTE"), commands(a));
        assertNotNull(a.parseError());
    }

    @Test
    void quotedAndUnquotedNamesFollowIdentifierRules() {
        run("PREPARE MyStmt AS DELETE FROM t");
        assertNull(run("EXECUTE mystmt").parseError());
        assertNotNull(run("EXECUTE \"MyStmt\"").parseError());
    }

    @Test
    void aSecondPrepareOfOneNameShowsBothDefinitionsBecauseTheServerKeepsTheFirst() {
        run("PREPARE p AS DELETE FROM users");
        run("PREPARE p AS SELECT 1");
        Analysis a = run("EXECUTE p");
        assertEquals(List.of("EXECUTE", "DELETE", "SELECT"), commands(a));
    }

    @Test
    void tooManyDefinitionsOfOneNameMakeItsExecuteUnanalysable() {
        for (int i = 0; i <= PreparedStatements.MAX_DEFINITIONS_PER_NAME; i++) {
            run("PREPARE p AS SELECT " + i);
        }
        Analysis a = run("EXECUTE p");
        assertEquals(List.of("EXECUTE"), commands(a));
        assertTrue(a.parseError().contains("prepared more than"), a.parseError());
    }

    @Test
    void theOldestNameIsForgottenBeyondCapacity() {
        PreparedStatements small = new PreparedStatements(2);
        small.apply(ANALYZER.analyze("PREPARE a AS SELECT 1; PREPARE b AS SELECT 2; PREPARE c AS SELECT 3", small));
        assertEquals(2, small.size());
        assertNotNull(ANALYZER.analyze("EXECUTE a", small).parseError());
        assertNull(ANALYZER.analyze("EXECUTE b", small).parseError());
        assertNull(ANALYZER.analyze("EXECUTE c", small).parseError());
    }

    @Test
    void aPrepareWhoseStatementCouldNotBeParsedMakesItsExecuteReportThat() {
        run("PREPARE bad AS SELECT FROM WHERE garbage(");
        Analysis a = run("EXECUTE bad");
        assertNotNull(a.parseError());
        assertTrue(a.parseError().contains("could not be fully analysed"), a.parseError());
    }

    @Test
    void prepareTransactionIsNotAPreparedStatement() {
        Analysis a = run("PREPARE TRANSACTION 'gid1'");
        assertEquals(List.of("OTHER"), commands(a));
        assertEquals(0, session.size());
    }

    @Test
    void aNullSessionMeansNoPreparedStatements() {
        assertNotNull(ANALYZER.analyze("EXECUTE p", null).parseError());
        assertNull(ANALYZER.analyze("PREPARE p AS SELECT 1; EXECUTE p", null).parseError());
    }
}
