package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.only;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.read;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableAccessTest {

    @Test
    void selectReadsEveryTableInJoinsSubqueriesAndSetOperations() {
        StatementInfo s = only("SELECT * FROM a JOIN b ON a.id = b.id WHERE a.x IN (SELECT x FROM c) "
                + "UNION SELECT * FROM d, LATERAL (SELECT * FROM e WHERE e.id = d.id) l");
        assertEquals("SELECT", s.command());
        assertEquals(List.of(read("a"), read("b"), read("c"), read("d"), read("e")), s.tables());
    }

    @Test
    void tablesInSelectListLimitAndOrderBySubqueriesAreRead() {
        StatementInfo s = only("SELECT (SELECT max(v) FROM a) FROM b ORDER BY (SELECT 1 FROM c LIMIT 1)");
        assertEquals(List.of(read("a"), read("b"), read("c")), s.tables());
    }

    @Test
    void schemaIsKeptAndNullWhenNotWritten() {
        assertEquals(List.of(TableRef.read("sales", "orders"), read("users")),
                only("SELECT * FROM Sales.Orders, users").tables());
    }

    @Test
    void unquotedNamesFoldToLowerCaseAndQuotedNamesKeepTheirCase() {
        assertEquals(List.of(read("users"), read("Users"), TableRef.read("Public", "My Table")),
                only("SELECT * FROM USERS, \"Users\", \"Public\".\"My Table\"").tables());
    }

    @Test
    void unicodeEscapedNamesAreDecodedAsTheServerDecodesThem() {
        assertEquals(List.of(read("users")), only("SELECT * FROM U&\"\\0075sers\"").tables());
        assertEquals(List.of(write("users")), only("DELETE FROM U&\"!0075ser!+000073\" UESCAPE '!'").tables());
        assertEquals(List.of(read("a\"b")), only("SELECT * FROM \"a\"\"b\"").tables());
    }

    @Test
    void namesLongerThan63BytesAreCutAsTheServerCutsThem() {
        String longName = "t".repeat(70);
        assertEquals(List.of(read("t".repeat(63))), only("SELECT * FROM " + longName).tables());
    }

    @Test
    void cteNamesAreNotTablesButTheirSourcesAre() {
        StatementInfo s = only("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users USING (id)");
        assertEquals(List.of(read("orders"), read("users")), s.tables());
    }

    @Test
    void aCteNamedLikeATableStillReadsTheTableItIsDefinedFrom() {
        assertEquals(List.of(read("users")), only("WITH users AS (SELECT * FROM users) SELECT * FROM users").tables());
    }

    @Test
    void aCteIsOnlyInScopeInsideItsOwnQuery() {
        assertEquals(List.of(read("q")), only("SELECT * FROM (WITH q AS (SELECT 1) SELECT * FROM q) z, q").tables());
    }

    @Test
    void recursiveCteReferencesItselfWithoutBecomingATable() {
        assertEquals(List.of(read("tree")), only("WITH RECURSIVE r(id) AS (SELECT id FROM tree UNION ALL "
                + "SELECT t.id FROM tree t JOIN r ON t.parent = r.id) SELECT * FROM r").tables());
    }

    @Test
    void dataModifyingCteWritesItsTargetUnderASelect() {
        StatementInfo s = only("WITH x AS (DELETE FROM users RETURNING *) SELECT * FROM x");
        assertEquals("SELECT", s.command());
        assertEquals(List.of(write("users")), s.tables());
        assertFalse(s.hasWhere());
    }

    @Test
    void dataModifyingCteInsideInsertWritesBothTargets() {
        StatementInfo s = only("WITH moved AS (DELETE FROM queue WHERE done RETURNING *) INSERT INTO archive SELECT * FROM moved");
        assertEquals("INSERT", s.command());
        assertEquals(List.of(write("archive"), write("queue")), sortedByName(s.tables()));
    }

    @Test
    void insertSelectWritesTheTargetAndReadsTheSources() {
        StatementInfo s = only("INSERT INTO archive (id, v) SELECT id, v FROM live JOIN extra USING (id)");
        assertEquals(List.of(write("archive"), read("live"), read("extra")), s.tables());
    }

    @Test
    void insertOnConflictAndReturningAreWalked() {
        StatementInfo s = only("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = (SELECT max(a) FROM u) "
                + "RETURNING (SELECT 1 FROM v LIMIT 1)");
        assertEquals(List.of(write("t"), read("v"), read("u")), s.tables());
    }

    @Test
    void updateFromWritesTheTargetAndReadsTheFromTables() {
        StatementInfo s = only("UPDATE accounts a SET balance = s.balance FROM staging s WHERE a.id = s.id");
        assertEquals("UPDATE", s.command());
        assertEquals(List.of(write("accounts"), read("staging")), s.tables());
        assertTrue(s.hasWhere());
    }

    @Test
    void deleteUsingWritesTheTargetAndReadsTheUsingTables() {
        StatementInfo s = only("DELETE FROM orders o USING users u WHERE o.user_id = u.id AND u.banned");
        assertEquals(List.of(write("orders"), read("users")), s.tables());
        assertTrue(s.hasWhere());
    }

    @Test
    void mergeWritesTheTargetAndReadsTheSource() {
        StatementInfo s = only("MERGE INTO stock t USING deliveries s ON t.item = s.item "
                + "WHEN MATCHED THEN UPDATE SET qty = t.qty + s.qty WHEN NOT MATCHED THEN INSERT (item, qty) VALUES (s.item, s.qty)");
        assertEquals("MERGE", s.command());
        assertEquals(List.of(write("stock"), read("deliveries")), s.tables());
    }

    @Test
    void aTableBothWrittenAndReadIsListedWithEachAccess() {
        assertEquals(List.of(write("t"), read("t")), only("INSERT INTO t SELECT * FROM t").tables());
    }

    @Test
    void selectIntoCreatesItsTargetTable() {
        assertEquals(List.of(write("copy"), read("t")), only("SELECT * INTO copy FROM t").tables());
    }

    @Test
    void hasWhereIsOnlyTrueForTopLevelUpdateOrDeleteWithWhere() {
        assertFalse(only("DELETE FROM users").hasWhere());
        assertFalse(only("UPDATE users SET a = 1").hasWhere());
        assertTrue(only("UPDATE users SET a = 1 WHERE id = 2").hasWhere());
        assertFalse(only("SELECT * FROM users WHERE id = 2").hasWhere());
        assertFalse(only("WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d").hasWhere());
    }

    @Test
    void ddlWritesItsTargets() {
        assertEquals(List.of(write("t")), only("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)").tables());
        assertEquals(List.of(write("t"), read("s")), only("CREATE TABLE t AS SELECT * FROM s WITH NO DATA").tables());
        assertEquals(List.of(write("v"), read("s")), only("CREATE OR REPLACE VIEW v AS SELECT * FROM s").tables());
        assertEquals(List.of(write("mv"), read("s")), only("CREATE MATERIALIZED VIEW mv AS SELECT * FROM s").tables());
        assertEquals(List.of(write("t")), only("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t (a)").tables());
        assertEquals(List.of(write("t")), only("ALTER TABLE IF EXISTS ONLY t ADD COLUMN c int").tables());
        assertEquals(List.of(TableRef.write("app", "t")), only("ALTER TABLE app.t RENAME TO u").tables());
        assertEquals(List.of(write("a"), TableRef.write("s", "b")), only("DROP TABLE IF EXISTS a, s.b CASCADE").tables());
        assertEquals(List.of(write("v")), only("DROP MATERIALIZED VIEW v").tables());
        assertEquals(List.of(write("a"), write("b")), only("TRUNCATE TABLE ONLY a, b * RESTART IDENTITY").tables());
    }

    @Test
    void ddlReadsTheTablesItReferences() {
        assertEquals(List.of(write("orders"), read("users"), read("template")),
                only("CREATE TABLE orders (id int, user_id int REFERENCES users(id), LIKE template)").tables());
        assertEquals(List.of(write("t"), read("parent")), only("ALTER TABLE t ADD FOREIGN KEY (p) REFERENCES parent (id)").tables());
    }

    @Test
    void dropOfAnObjectThatIsNotATableNamesNoTable() {
        assertEquals(List.of(), only("DROP FUNCTION f(int)").tables());
        assertEquals(List.of(), only("DROP SCHEMA s CASCADE").tables());
        assertEquals(List.of(write("t")), only("DROP TRIGGER tg ON t").tables());
    }

    @Test
    void triggersRulesAndPoliciesWriteTheirTable() {
        assertEquals(List.of(write("t")), only("CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()").tables());
        assertEquals(List.of(write("t")), only("CREATE POLICY p ON t USING (owner = current_user)").tables());
        assertEquals(List.of(write("t"), write("users")),
                only("CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM users").tables());
    }

    @Test
    void copyToReadsAndCopyFromWrites() {
        assertEquals(List.of(read("users")), only("COPY users TO STDOUT").tables());
        assertEquals(List.of(write("users")), only("COPY users (id, name) FROM STDIN WITH (FORMAT csv)").tables());
    }

    @Test
    void copyOfAQueryUsesTheQueryTablesWithTheirOwnAccess() {
        assertEquals(List.of(read("users"), read("orders")),
                only("COPY (SELECT * FROM users JOIN orders USING (id)) TO STDOUT").tables());
        assertEquals(List.of(write("users")), only("COPY (DELETE FROM users RETURNING *) TO STDOUT").tables());
    }

    @Test
    void lockVacuumAnalyzeAndGrantWriteTheirTables() {
        assertEquals(List.of(write("a"), write("b")), only("LOCK TABLE ONLY a, b IN ACCESS EXCLUSIVE MODE NOWAIT").tables());
        assertEquals(List.of(write("a"), write("b")), only("VACUUM (VERBOSE, ANALYZE) a (x, y), b").tables());
        assertEquals(List.of(write("a")), only("VACUUM FULL FREEZE a").tables());
        assertEquals(List.of(write("a")), only("ANALYZE VERBOSE a").tables());
        assertEquals(List.of(write("users")), only("GRANT SELECT, UPDATE (name) ON users TO bob").tables());
        assertEquals(List.of(TableRef.write("public", "orders")), only("REVOKE ALL ON TABLE public.orders FROM bob").tables());
        assertEquals(List.of(), only("GRANT USAGE ON SCHEMA s TO bob").tables());
        assertEquals(List.of(), only("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ro").tables());
    }

    @Test
    void declareCursorIsAWrapperAndItsQueryIsJudgedLikeTheSameQuerySentAlone() {
        List<StatementInfo> d = Sql.analyze("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM users").statements();
        assertEquals(2, d.size());
        assertEquals("DECLARE", d.get(0).command());
        assertEquals(List.of(), d.get(0).tables(), "the wrapper reads nothing itself");
        assertEquals("SELECT", d.get(1).command());
        assertEquals(StatementInfo.VIA_DECLARE, d.get(1).via());
        assertEquals(List.of(read("users")), d.get(1).tables());
        assertEquals("SELECT * FROM users", d.get(1).normalized());
        // a cursor over a data-modifying WITH writes (PostgreSQL refuses it, but the gateway must never call it a read)
        List<StatementInfo> w = Sql.analyze("DECLARE w CURSOR FOR WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone")
                .statements();
        assertEquals(List.of(write("users")), w.get(1).tables());
        assertEquals(List.of("FETCH", "MOVE", "CLOSE", "CLOSE"), Sql.analyze("FETCH 10 FROM c; MOVE LAST IN c; CLOSE c; CLOSE ALL")
                .statements().stream().map(StatementInfo::command).toList());
        assertEquals(List.of(write("mv")), only("REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA").tables());
    }

    @Test
    void columnQualifiersAndLockingClausesAreNotTables() {
        assertEquals(List.of(read("users")), only("SELECT u.id, u.* FROM users u FOR UPDATE OF u").tables());
    }

    private static List<TableRef> sortedByName(List<TableRef> tables) {
        return tables.stream().sorted(java.util.Comparator.comparing(TableRef::name)).toList();
    }
}
