package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FunctionDetectionTest {

    @Test
    void dangerousFunctionsInTheSelectListAreListed() {
        assertEquals(List.of("pg_read_file", "lo_import", "dblink_exec", "set_config"),
                only("SELECT pg_read_file('/etc/passwd'), lo_import('/etc/shadow'), dblink_exec('c', 'DROP TABLE x'), "
                        + "set_config('role', 'postgres', false)").functions());
    }

    @Test
    void schemaIsStrippedAndNamesAreLowerCased() {
        assertEquals(List.of("pg_read_file", "set_config"),
                only("SELECT PG_CATALOG.PG_READ_FILE('x'), pg_catalog.\"set_config\"('a', 'b', true)").functions());
    }

    @Test
    void functionsNestedInArgumentsSubqueriesAndCtesAreListed() {
        StatementInfo s = only("WITH c AS (SELECT set_config('role', 'postgres', false) AS r) "
                + "SELECT upper(lower(pg_read_file('x'))) FROM (SELECT lo_import('/x') AS oid) z "
                + "WHERE EXISTS (SELECT dblink_exec('c', 'd')) AND (SELECT 1 FROM c) = 1");
        assertEquals(List.of("set_config", "upper", "lower", "pg_read_file", "lo_import", "dblink_exec"), s.functions());
    }

    @Test
    void setReturningFunctionsInFromAreListed() {
        StatementInfo s = only("SELECT * FROM dblink('host=evil', 'SELECT secret FROM t') AS t(secret text)");
        assertEquals(List.of("dblink"), s.functions());
        assertEquals(List.of(), s.tables());
        assertEquals(List.of("pg_ls_dir"), only("SELECT * FROM pg_catalog.pg_ls_dir('/') WITH ORDINALITY").functions());
    }

    @Test
    void functionsInEveryClauseAreListed() {
        StatementInfo s = only("SELECT DISTINCT ON (f1(a)) f2(a) FROM t WHERE f3(a) GROUP BY f4(a) HAVING f5(count(*)) > 0 "
                + "ORDER BY f6(a) LIMIT f7(1) OFFSET f8(0)");
        assertTrue(s.functions().containsAll(List.of("f1", "f2", "f3", "f4", "f5", "count", "f6", "f7", "f8")),
                s.functions()::toString);
    }

    @Test
    void windowAndAggregateFunctionsAreListed() {
        assertEquals(List.of("row_number", "sum"), only("SELECT row_number() OVER (ORDER BY a), sum(b) OVER w FROM t "
                + "WINDOW w AS (PARTITION BY c)").functions());
    }

    @Test
    void functionsInDataChangingStatementsAreListed() {
        assertEquals(List.of("pg_read_file"), only("INSERT INTO t (v) VALUES (pg_read_file('/etc/passwd'))").functions());
        assertEquals(Set.of("now", "md5"), Set.copyOf(only("UPDATE t SET ts = now() WHERE md5(a) = 'x'").functions()));
        assertEquals(List.of("f", "g"), only("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING RETURNING f(a), g(b)").functions());
        assertEquals(List.of("lo_unlink"), only("DELETE FROM t WHERE lo_unlink(oid) = 1").functions());
    }

    @Test
    void callListsTheProcedureAndTheCallsInItsArguments() {
        StatementInfo s = only("CALL app.refresh_all(1, pg_read_file('x'))");
        assertEquals("CALL", s.command());
        assertEquals(List.of("refresh_all", "pg_read_file"), s.functions());
    }

    @Test
    void keyWordConstructsAreNotFunctionsUnlessQualified() {
        assertEquals(List.of(), only("SELECT COALESCE(a, 1), NULLIF(a, 2), ARRAY(SELECT 1), ROW(1, 2) FROM t WHERE x = ANY($1)").functions());
        assertEquals(List.of("coalesce"), only("SELECT public.coalesce(1)").functions());
    }

    @Test
    void ddlExpressionsAreSearchedForCalls() {
        assertEquals(List.of("pg_read_file"), only("CREATE TABLE t (a text DEFAULT pg_read_file('x'), b numeric(10, 2))").functions());
        assertEquals(List.of("f"), only("ALTER TABLE t ALTER COLUMN c SET DEFAULT f()").functions());
        assertEquals(List.of("lower"), only("CREATE INDEX i ON t (lower(email))").functions());
        assertEquals(List.of("audit"), only("CREATE TRIGGER tg AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION audit()").functions());
        assertEquals(List.of(), only("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT 1'").functions());
    }

    @Test
    void copyWhereClauseCallsAreListed() {
        assertEquals(List.of("f"), only("COPY t FROM STDIN WITH (FORMAT csv, FORCE_NULL (a)) WHERE f(a) > 0").functions());
    }
}
