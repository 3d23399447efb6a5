package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The columns that a statement's predicates, groupings and orderings read ({@link Lineage#predicates}), over the demo
 * schema of {@link LineageTest}: {@code table.column} sorted, {@code none}, or {@code unknown}. The end-to-end test
 * (PredicateProbeTest) checks the same against the real catalog and OPA.
 */
class PredicatesTest {

    static String predicates(String sql) {
        List<ResultStatements.ResultStatement> statements = ResultStatements.of(sql);
        assertEquals(1, statements.size(), sql);
        ColumnLineage read = Lineage.predicates(statements.get(0).tree(), LineageTest.CATALOG);
        if (read.unknown()) {
            return "unknown";
        }
        return read.sources().isEmpty() ? "none"
                : read.sources().stream().map(s -> s.table() + "." + s.column()).collect(Collectors.joining(","));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', textBlock = """
            SELECT id FROM users WHERE email LIKE 'a%'                                       ; users.email
            SELECT id FROM users WHERE id = 1                                                ; users.id
            SELECT id FROM users                                                             ; none
            SELECT email FROM users                                                          ; none
            SELECT 1                                                                         ; none
            SELECT id FROM users ORDER BY email                                              ; users.email
            SELECT id FROM users ORDER BY 1                                                  ; users.id
            SELECT id, email FROM users ORDER BY 2                                           ; users.email
            SELECT id, email AS e FROM users ORDER BY e DESC                                 ; users.email
            SELECT id, lower(email) AS k FROM users ORDER BY k                               ; users.email
            SELECT email AS id FROM users ORDER BY id                                        ; users.email
            SELECT count(*) FROM users GROUP BY email                                        ; users.email
            SELECT count(*) FROM users GROUP BY 1                                            ; none
            SELECT left(email, 1) AS f, count(*) FROM users GROUP BY f                       ; users.email
            SELECT count(*) FROM users GROUP BY GROUPING SETS ((email), (name))              ; users.email,users.name
            SELECT name FROM users GROUP BY name HAVING max(email) > 'm'                     ; users.email,users.name
            SELECT DISTINCT ON (email) id FROM users                                         ; users.email
            SELECT u.id FROM users u JOIN payments p ON p.card_number = u.phone              ; payments.card_number,users.phone
            SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id                       ; orders.user_id,users.id
            SELECT u.id FROM users u JOIN orders o USING (id)                                ; orders.id,users.id
            SELECT u.id FROM users u NATURAL JOIN orders o                                   ; orders.id,users.id
            SELECT u.id FROM (users u JOIN payments p ON p.card_number LIKE '4%') ON true    ; unknown
            SELECT id FROM users WHERE id IN (SELECT user_id FROM payments WHERE card_number LIKE '4242%') ; payments.card_number,payments.user_id,users.id
            SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM payments p WHERE p.user_id = u.id AND p.card_number > '5') ; payments.card_number,payments.user_id,users.id
            SELECT (SELECT count(*) FROM users WHERE email LIKE 'a%')                        ; users.email
            SELECT x FROM (SELECT id AS x FROM users WHERE email LIKE 'a%') s                ; users.email
            SELECT s.x FROM (SELECT email AS x FROM users) s WHERE s.x LIKE 'j%'             ; users.email
            WITH m AS (SELECT id FROM users WHERE email LIKE 'a%') SELECT id FROM m           ; users.email
            SELECT id FROM users UNION SELECT id FROM payments WHERE card_number LIKE '4%'   ; payments.card_number
            SELECT id, email FROM users UNION SELECT id, name FROM users ORDER BY 2          ; users.email,users.name
            SELECT id FROM users u, LATERAL (SELECT 1 FROM orders o WHERE o.user_id = u.id AND u.email > 'm') l ; orders.user_id,users.email,users.id
            SELECT id FROM user_emails WHERE email LIKE 'a%'                                 ; unknown
            SELECT id FROM nowhere WHERE x = 1                                               ; unknown
            SELECT id FROM users WHERE nosuch = 1                                            ; unknown
            UPDATE users SET name = 'x' WHERE email LIKE 'a%'                                ; users.email
            DELETE FROM users WHERE phone = '1'                                              ; users.phone
            INSERT INTO orders (id) SELECT id FROM users WHERE email LIKE 'a%'               ; users.email
            SELECT id FROM generate_series(1, 3) g(id) WHERE id > 1                          ; none
            SELECT id FROM users WHERE CAST(email AS bytea) = '\\x00'                        ; users.email
            """)
    void readsTheColumnsOfEveryPredicateGroupingAndOrdering(String sql, String expected) {
        assertEquals(expected, predicates(sql));
    }
}
