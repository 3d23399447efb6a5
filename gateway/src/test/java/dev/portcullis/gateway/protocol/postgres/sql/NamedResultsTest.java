package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.ANALYZER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.Kind;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements.ResultStatement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which query's rows an {@code EXECUTE} or {@code FETCH} returns, as the analysis resolves it from the session's memory
 * of its {@code PREPARE}s and {@code DECLARE}s at that point of the text: the lineage of those rows is that query's.
 */
class NamedResultsTest {

    private final PreparedStatements session = new PreparedStatements();

    /** Analyses and, as the gateway does once a query is let through, applies. */
    private Analysis run(String sql) {
        Analysis a = ANALYZER.analyze(sql, session);
        session.apply(a);
        return a;
    }

    /** The texts the statements of {@code sql} return rows of, as the result relay sees them. */
    private List<ResultStatement> results(String sql) {
        return ResultStatements.of(sql, run(sql).namedResults());
    }

    /** The text of a query as the lineage reads it (literals replaced). */
    private static String q(String sql) {
        return ResultStatements.of(sql).get(0).parserText();
    }

    private static List<String> texts(ResultStatement s) {
        assertEquals(Kind.NAMED, s.kind());
        return s.runs().stream().map(ResultStatement::parserText).toList();
    }

    @Test
    void anExecuteReturnsTheRowsOfItsPreparedQueryWhateverItsParameters() {
        run("PREPARE p (int) AS SELECT split_part(email, '@', 1) FROM users WHERE id = $1");
        List<ResultStatement> r = results("EXECUTE p (42)");
        assertEquals(1, r.size());
        assertEquals(List.of(q("SELECT split_part(email, '@', 1) FROM users WHERE id = $1")), texts(r.get(0)));
    }

    @Test
    void aReusedNameIsResolvedAtItsPlaceInTheText() {
        List<ResultStatement> r = results("PREPARE q AS SELECT lower(email) FROM users; EXECUTE q; DEALLOCATE q;"
                + " PREPARE q AS SELECT lower(name) FROM users; EXECUTE q");
        assertEquals(List.of(q("SELECT lower(email) FROM users")), texts(r.get(1)));
        assertEquals(List.of(q("SELECT lower(name) FROM users")), texts(r.get(4)));
        assertEquals(List.of(q("SELECT lower(name) FROM users")), texts(results("EXECUTE q").get(0)));
    }

    @Test
    void aFetchReturnsTheRowsOfItsCursorsQuery() {
        List<ResultStatement> r = results("BEGIN; DECLARE c NO SCROLL CURSOR FOR SELECT upper(email) FROM users;"
                + " FETCH FORWARD 2 FROM c; MOVE c; FETCH c");
        assertEquals(List.of(q("SELECT upper(email) FROM users")), texts(r.get(2)));
        assertEquals(Kind.OPAQUE, r.get(3).kind(), "MOVE returns no rows");
        assertEquals(List.of(q("SELECT upper(email) FROM users")), texts(r.get(4)));
        assertEquals(List.of(q("SELECT upper(email) FROM users")), texts(results("FETCH ALL IN c").get(0)));
    }

    @Test
    void aCursorIsForgottenAtCloseAndAtTheEndOfItsTransactionUnlessHoldable() {
        run("BEGIN; DECLARE c CURSOR FOR SELECT email FROM users; DECLARE h CURSOR WITH HOLD FOR SELECT name FROM users");
        assertEquals(List.of(), texts(results("COMMIT; FETCH c").get(1)));
        assertEquals(List.of(q("SELECT name FROM users")), texts(results("FETCH h").get(0)));
        run("CLOSE h");
        assertEquals(List.of(), texts(results("FETCH h").get(0)));
        run("DECLARE h CURSOR WITH HOLD FOR SELECT name FROM users; BEGIN; DECLARE c CURSOR FOR SELECT email FROM users");
        session.transactionEnded(); // the backend is idle again (ReadyForQuery I)
        assertEquals(List.of(), texts(results("FETCH c").get(0)));
        assertEquals(List.of(q("SELECT name FROM users")), texts(results("FETCH h").get(0)));
        run("DISCARD ALL");
        assertEquals(List.of(), texts(results("FETCH h").get(0)));
        assertEquals(0, session.size());
    }

    @Test
    void aRollbackToASavepointKeepsTheCursors() {
        run("BEGIN; DECLARE c CURSOR FOR SELECT email FROM users; SAVEPOINT s");
        assertEquals(List.of(q("SELECT email FROM users")), texts(results("ROLLBACK TO SAVEPOINT s; FETCH c").get(1)));
        assertEquals(List.of(q("SELECT email FROM users")), texts(results("ROLLBACK WORK TO s; FETCH c").get(1)));
        assertEquals(List.of(q("SELECT email FROM users")), texts(results("ROLLBACK TRANSACTION TO SAVEPOINT s; FETCH c").get(1)));
    }

    @Test
    void closeAllForgetsEveryCursorButNoPreparedStatement() {
        run("PREPARE p AS SELECT name FROM users; DECLARE h CURSOR WITH HOLD FOR SELECT email FROM users");
        run("BEGIN; DECLARE c CURSOR FOR SELECT email FROM users");
        List<ResultStatement> r = results("CLOSE ALL; FETCH h; FETCH c; EXECUTE p");
        assertEquals(List.of(), texts(r.get(1)));
        assertEquals(List.of(), texts(r.get(2)));
        assertEquals(List.of(q("SELECT name FROM users")), texts(r.get(3)));
        assertEquals(1, session.size());
    }

    @Test
    void aRollbackDropsTheHoldableCursorsItsTransactionDeclaredAndKeepsTheCommittedOnes() {
        run("DECLARE kept CURSOR WITH HOLD FOR SELECT name FROM users");
        session.transactionEnded(); // its implicit transaction committed: the backend is idle
        run("BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT email FROM users");
        List<ResultStatement> r = results("ROLLBACK; FETCH h; FETCH kept");
        assertEquals(List.of(), texts(r.get(1)), "PostgreSQL drops a holdable cursor whose transaction rolls back");
        assertEquals(List.of(q("SELECT name FROM users")), texts(r.get(2)));
        assertEquals(List.of(), texts(results("FETCH h").get(0)), "and so does the session's memory");
        // declared and rolled back in one text; committed in one text, then a rollback of the next transaction
        assertEquals(List.of(), texts(results("BEGIN; DECLARE x CURSOR WITH HOLD FOR SELECT email FROM users; ROLLBACK; FETCH x").get(3)));
        r = results("BEGIN; DECLARE y CURSOR WITH HOLD FOR SELECT email FROM users; COMMIT; BEGIN; ROLLBACK; FETCH y");
        assertEquals(List.of(q("SELECT email FROM users")), texts(r.get(5)));
        assertEquals(List.of(q("SELECT email FROM users")), texts(results("BEGIN; ROLLBACK; FETCH y").get(2)));
    }

    @Test
    void aNameNeverSeenOrForgottenRunsNothingKnown() {
        assertEquals(List.of(), texts(results("EXECUTE never").get(0)));
        assertEquals(List.of(), texts(results("FETCH never").get(0)));
        assertEquals(List.of(), texts(ResultStatements.of("EXECUTE p").get(0)), "unresolved by default");
    }

    @Test
    void tooManyNamesForgetTheOldest() {
        PreparedStatements small = new PreparedStatements(2);
        for (String sql : List.of("PREPARE a AS SELECT email FROM users", "DECLARE b CURSOR WITH HOLD FOR SELECT 1",
                "PREPARE c AS SELECT 2")) {
            small.apply(ANALYZER.analyze(sql, small));
        }
        assertEquals(2, small.size());
        assertEquals(List.of(), texts(ResultStatements.of("EXECUTE a", ANALYZER.analyze("EXECUTE a", small).namedResults()).get(0)));
    }

    @Test
    void tooMuchTextForgetsTheOldest() {
        PreparedStatements small = new PreparedStatements(1_000, 5_000);
        String longQuery = "SELECT " + "email || ".repeat(100) + "'' FROM users";
        small.apply(ANALYZER.analyze("PREPARE a AS " + longQuery, small));
        assertEquals(1, small.size());
        small.apply(ANALYZER.analyze("PREPARE b AS " + longQuery, small));
        assertEquals(1, small.size(), "two such texts exceed the budget");
        assertEquals(List.of(), texts(ResultStatements.of("EXECUTE a", ANALYZER.analyze("EXECUTE a", small).namedResults()).get(0)));
        assertEquals(1, texts(ResultStatements.of("EXECUTE b", ANALYZER.analyze("EXECUTE b", small).namedResults()).get(0)).size());
    }

    @Test
    void aQueryTheParserCannotReadRunsAnUnknownQuery() {
        run("DECLARE c CURSOR WITH HOLD FOR SELECT FROM WHERE (");
        List<ResultStatement> runs = results("FETCH c").get(0).runs();
        assertEquals(1, runs.size());
        assertNull(runs.get(0).tree());
    }

    @Test
    void anAnalysisThatResolvesAFetchIsTheSessionsOwn() {
        assertTrue(run("FETCH c").readsSession(), "never cached for another session");
        assertTrue(!ANALYZER.analyze("SELECT 1", session).readsSession());
    }
}
