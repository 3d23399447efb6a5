package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Catalog;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Lineage;
import dev.portcullis.gateway.protocol.postgres.sql.lineage.Source;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which statements of a request get their predicate columns followed (over a fixed catalog; PredicateProbeTest runs
 * them against PostgreSQL's), and which are unknown: each statement of the
 * text, in order, as {@code [columns]}, {@code []} or {@code unknown}, joined with {@code |}.
 */
class PredicateColumnsTest {

    private static final SqlAnalyzer SQL = new SqlAnalyzer();
    private static final Catalog CATALOG = (schema, name) -> "users".equals(name) && (schema == null || "public".equals(schema))
            ? new Catalog.Relation("public", "users", List.of("id", "email", "name"), false) : null;

    private static String columns(String text, boolean catalog) {
        List<StatementInfo> judged = PredicateColumns.of(SQL.analyze(text, null),
                catalog ? s -> CompletableFuture.completedFuture(Lineage.predicates(s.tree(), CATALOG)) : null).join();
        StringBuilder out = new StringBuilder();
        for (StatementInfo s : judged) {
            out.append(out.isEmpty() ? "" : " | ");
            if (s.predicateColumns() instanceof List<?> list) {
                out.append(list.stream().map(c -> ((Source) c).column()).toList());
            } else {
                out.append(s.predicateColumns());
            }
        }
        return out.toString();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', quoteCharacter = '`', textBlock = """
            SELECT id FROM users WHERE email LIKE 'a%'                  ~ [email]
            SELECT 1; SELECT id FROM users ORDER BY name                ~ [] | [name]
            BEGIN; SET search_path = public; SHOW search_path; COMMIT   ~ [] | [] | [] | []
            COPY (SELECT id FROM users WHERE email > 'm') TO STDOUT     ~ [email]
            COPY users TO STDOUT                                        ~ []
            EXPLAIN SELECT id FROM users WHERE email LIKE 'a%'          ~ [] | [email]
            PREPARE p AS SELECT id FROM users WHERE email LIKE 'a%'; EXECUTE p ~ [] | [email] | [] | [email]
            SELECT id, name, email FROM users ORDER BY 1, 2, 3          ~ [email, id, name]
            DECLARE c CURSOR FOR SELECT id FROM users WHERE email > 'a' ~ [] | [email]
            FETCH 10 FROM c; MOVE c; CLOSE c                            ~ [] | [] | []
            SELECT id FROM nowhere WHERE x = 1                          ~ unknown
            MERGE INTO users u USING users s ON u.email = s.email WHEN MATCHED THEN DO NOTHING ~ unknown
            SELECT id FROM users WHERE email LIKE                       ~ unknown
            """)
    void eachStatementSaysWhatItsPredicatesRead(String text, String expected) {
        assertEquals(expected, columns(text, true));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', quoteCharacter = '`', textBlock = """
            SELECT id FROM users WHERE id = 1 ~ unknown
            SELECT 1; SET search_path = public ~ [] | []
            """)
    void withoutACatalogEveryStatementNamingATableIsUnknown(String text, String expected) {
        assertEquals(expected, columns(text, false));
    }
}
