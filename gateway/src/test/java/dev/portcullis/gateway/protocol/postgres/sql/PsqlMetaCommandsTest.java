package dev.portcullis.gateway.protocol.postgres.sql;

import static dev.portcullis.gateway.protocol.postgres.sql.Sql.analyze;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * psql's meta-commands ({@code \d orders}, {@code \dt}, ...) are catalog queries written in PostgreSQL's own
 * dialect ({@code OPERATOR(pg_catalog.~)}, {@code COLLATE pg_catalog.default}). A query the gateway cannot parse is
 * treated as the riskiest kind (held or denied on production), so each must parse and name the catalog tables it reads.
 */
class PsqlMetaCommandsTest {

    @Test
    void everyPsqlMetaCommandQueryIsAnalysed() throws IOException {
        List<String> queries = queries();
        assertEquals(19, queries.size());
        for (String sql : queries) {
            Analysis a = analyze(sql);
            assertNull(a.parseError(), sql);
            assertEquals(1, a.statements().size(), sql);
            assertEquals("SELECT", a.statements().get(0).command(), sql);
            assertFalse(a.statements().get(0).tables().isEmpty(), sql);
        }
    }

    @Test
    void anOperatorWrittenAsOperatorCallReadsAsTheOperator() {
        Analysis a = analyze("SELECT * FROM users WHERE name OPERATOR(pg_catalog.~) '^a' AND id OPERATOR(=) 1");
        assertNull(a.parseError());
        assertEquals("users", a.statements().get(0).tables().get(0).name());
    }

    private static List<String> queries() throws IOException {
        try (InputStream in = PsqlMetaCommandsTest.class.getResourceAsStream("/sql/psql-meta-commands.sql")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return Arrays.stream(text.split("(?m)^----$")).map(String::strip)
                    .map(q -> q.lines().filter(l -> !l.startsWith("-- ")).reduce("", (x, y) -> x + y + "\n").strip())
                    .filter(q -> !q.isEmpty()).toList();
        }
    }
}
