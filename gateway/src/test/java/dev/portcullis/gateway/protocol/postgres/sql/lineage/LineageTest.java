package dev.portcullis.gateway.protocol.postgres.sql.lineage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The column lineage of many query shapes over the demo schema. Each column is written as {@code plain(sources)},
 * {@code derived(sources)} or {@code unknown}. The end-to-end tests (LineageMaskingTest) check the same against the
 * real PostgreSQL catalog and OPA.
 */
class LineageTest {

    /**
     * The demo schema's tables as the catalog reports them; {@code user_emails} is a view whose query was not followed,
     * {@code email_parts} one whose query was ({@code SELECT id, split_part(email, '@', 1) AS local FROM users}).
     */
    private static final Map<String, Catalog.Relation> SCHEMA = Map.of(
            "users", new Catalog.Relation("public", "users", List.of("id", "email", "name", "phone"), false),
            "payments", new Catalog.Relation("public", "payments", List.of("id", "user_id", "card_number", "amount"), false),
            "orders", new Catalog.Relation("public", "orders", List.of("id", "user_id", "total"), false),
            "user_emails", new Catalog.Relation("public", "user_emails", List.of("id", "email"), true),
            "email_parts", new Catalog.Relation("public", "email_parts", List.of("id", "local"), true, List.of(
                    ColumnLineage.plain(new Source("public", "users", "id")),
                    new ColumnLineage(java.util.Set.of(new Source("public", "users", "email")), true, false))));

    static final Catalog CATALOG = (schema, name) -> schema == null || schema.equals("public") ? SCHEMA.get(name) : null;

    static String lineage(String sql) {
        List<ResultStatements.ResultStatement> statements = ResultStatements.of(sql);
        assertEquals(1, statements.size(), sql);
        List<ColumnLineage> columns = Lineage.of(statements.get(0).tree(), CATALOG);
        if (columns == null) {
            return "null";
        }
        return columns.stream().map(LineageTest::render).collect(Collectors.joining(" | "));
    }

    private static String render(ColumnLineage c) {
        if (c.unknown()) {
            return "unknown";
        }
        String sources = c.sources().stream().map(s -> s.table() + "." + s.column()).collect(Collectors.joining(","));
        return (c.derived() ? "derived(" : "plain(") + sources + ")";
    }

    private static final String EMAIL = "derived(users.email)";
    private static final String CARD = "derived(payments.card_number)";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', textBlock = """
            # the issue's five queries
            SELECT split_part(email, '@', 1), split_part(email, '@', 2) FROM users ; derived(users.email) | derived(users.email)
            SELECT regexp_replace(email, '@', ' at ') FROM users                  ; derived(users.email)
            SELECT email::bytea FROM users                                        ; derived(users.email)
            SELECT encode(convert_to(email, 'UTF8'), 'base64') FROM users         ; derived(users.email)
            SELECT left(card_number, 8), substr(card_number, 9) FROM payments     ; derived(payments.card_number) | derived(payments.card_number)
            """)
    void theIssuesBypassesAreDerivedFromTheMaskedColumn(String sql, String expected) {
        assertEquals(expected, lineage(sql));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', textBlock = """
            SELECT email FROM users                                             ; plain(users.email)
            SELECT email AS e, id FROM users                                    ; plain(users.email) | plain(users.id)
            SELECT u.email FROM users u                                         ; plain(users.email)
            SELECT public.users.email FROM public.users                         ; plain(users.email)
            SELECT "EMAIL" FROM users                                           ; unknown
            SELECT * FROM users                                                 ; plain(users.id) | plain(users.email) | plain(users.name) | plain(users.phone)
            SELECT u.*, o.total FROM users u JOIN orders o ON o.user_id = u.id  ; plain(users.id) | plain(users.email) | plain(users.name) | plain(users.phone) | plain(orders.total)
            SELECT lower(email) FROM users                                      ; derived(users.email)
            SELECT upper(name) || ' <' || email || '>' FROM users               ; derived(users.email,users.name)
            SELECT CAST(email AS bytea) FROM users                              ; derived(users.email)
            SELECT reverse(email) FROM users                                    ; derived(users.email)
            SELECT replace(email, '.', '') FROM users                           ; derived(users.email)
            SELECT md5(email) FROM users                                        ; derived(users.email)
            SELECT length(email) FROM users                                     ; derived(users.email)
            SELECT CASE WHEN email LIKE 'a%' THEN 1 ELSE 0 END FROM users       ; derived(users.email)
            SELECT coalesce(phone, email) FROM users                            ; derived(users.email,users.phone)
            SELECT string_agg(email, ',') FROM users                            ; derived(users.email)
            SELECT array_agg(card_number) FROM payments                         ; derived(payments.card_number)
            SELECT count(*) FROM users                                          ; derived()
            SELECT count(email) FROM users                                      ; derived(users.email)
            SELECT lag(email) OVER (ORDER BY id) FROM users                     ; derived(users.email,users.id)
            SELECT row_to_json(u) FROM users u                                  ; derived(users.email,users.id,users.name,users.phone)
            SELECT to_jsonb(u.*) FROM users u                                   ; derived(users.email,users.id,users.name,users.phone)
            SELECT u FROM users u                                               ; derived(users.email,users.id,users.name,users.phone)
            SELECT users FROM users                                             ; derived(users.email,users.id,users.name,users.phone)
            SELECT json_build_object('e', email) FROM users                     ; derived(users.email)
            SELECT jsonb_agg(jsonb_build_array(id, email)) FROM users           ; derived(users.email,users.id)
            SELECT xmlforest(email) FROM users                                  ; derived(users.email)
            SELECT xmlelement(name e, email) FROM users                         ; null
            TABLE payments                                                      ; plain(payments.id) | plain(payments.user_id) | plain(payments.card_number) | plain(payments.amount)
            SELECT n FROM (SELECT * FROM (VALUES (email)) AS x(n) CROSS JOIN users) y ; unknown
            SELECT ARRAY[email, name] FROM users                                ; derived(users.email,users.name)
            SELECT (string_to_array(email, '@'))[1] FROM users                  ; derived(users.email)
            SELECT 1, 'x', now()                                                ; derived() | derived() | derived()
            SELECT current_user                                                 ; derived()
            SELECT e FROM (SELECT email AS e FROM users) s                      ; plain(users.email)
            SELECT x FROM (SELECT lower(email) AS x FROM users) s               ; derived(users.email)
            SELECT s.* FROM (SELECT id, email FROM users) s                     ; plain(users.id) | plain(users.email)
            SELECT (SELECT email FROM users LIMIT 1)                            ; derived(users.email)
            SELECT id, (SELECT max(card_number) FROM payments p WHERE p.user_id = u.id) FROM users u ; plain(users.id) | derived(payments.card_number)
            WITH e AS (SELECT email FROM users) SELECT * FROM e                 ; plain(users.email)
            WITH e(addr) AS (SELECT email FROM users) SELECT upper(addr) FROM e ; derived(users.email)
            WITH a AS (SELECT email FROM users), b AS (SELECT email AS x FROM a) SELECT x FROM b ; plain(users.email)
            WITH RECURSIVE r(n, s) AS (SELECT 1, email FROM users UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT s FROM r ; derived(users.email)
            SELECT email FROM users UNION SELECT name FROM users                ; derived(users.email,users.name)
            SELECT card_number FROM payments INTERSECT SELECT 'x'               ; derived(payments.card_number)
            SELECT email FROM users EXCEPT SELECT email FROM users WHERE id = 1 ; derived(users.email)
            SELECT t.p FROM users u, LATERAL (SELECT split_part(u.email, '@', 1) AS p) t ; derived(users.email)
            SELECT x FROM users u CROSS JOIN LATERAL unnest(string_to_array(u.email, '@')) AS t(x) ; derived(users.email)
            SELECT v FROM users, unnest(ARRAY[email]) v                         ; derived(users.email)
            SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s)                ; derived() | derived()
            SELECT column2 FROM (VALUES (1, 'a')) v                             ; derived()
            VALUES (1, 'a')                                                     ; derived() | derived()
            SELECT g FROM generate_series(1, 3) AS g                            ; derived()
            SELECT * FROM user_emails                                           ; unknown | unknown
            SELECT lower(email) FROM user_emails                                ; unknown
            SELECT * FROM email_parts                                           ; plain(users.id) | derived(users.email)
            SELECT upper(p.local), p.id FROM email_parts p                      ; derived(users.email) | plain(users.id)
            SELECT * FROM nowhere                                               ; null
            SELECT email FROM nowhere                                           ; unknown
            SELECT id FROM users, nowhere                                       ; unknown
            SELECT u.id FROM users u, nowhere                                   ; plain(users.id)
            SELECT * FROM users JOIN orders USING (id)                          ; null
            SELECT email FROM users JOIN orders USING (id)                      ; plain(users.email)
            DELETE FROM users WHERE id = 1 RETURNING email                      ; plain(users.email)
            UPDATE users SET name = 'x' RETURNING lower(email), id              ; derived(users.email) | plain(users.id)
            INSERT INTO payments (card_number) VALUES ('1') RETURNING *         ; plain(payments.id) | plain(payments.user_id) | plain(payments.card_number) | plain(payments.amount)
            DELETE FROM orders                                                  ;
            """)
    void lineageOf(String sql, String expected) {
        assertEquals(expected == null ? "" : expected, lineage(sql));
    }

    @Test
    void aStatementTheParserCannotReadHasNoLineage() {
        List<ResultStatements.ResultStatement> s = ResultStatements.of("SELECT FROM WHERE (");
        assertEquals(ResultStatements.Kind.QUERY, s.get(0).kind());
        assertNull(s.get(0).tree());
    }

    @Test
    void statementsAreSplitAsTheServerRunsThem() {
        List<ResultStatements.ResultStatement> s = ResultStatements.of("SHOW search_path; SELECT email FROM users;; EXECUTE p; EXPLAIN SELECT 1");
        assertEquals(List.of(ResultStatements.Kind.NO_TABLE_DATA, ResultStatements.Kind.QUERY, ResultStatements.Kind.NAMED,
                ResultStatements.Kind.NO_TABLE_DATA), s.stream().map(ResultStatements.ResultStatement::kind).toList());
    }

    @Test
    void hugeExpressionsEndInUnknownNotInAStackOverflow() {
        String sql = "SELECT " + "lower(".repeat(90) + "email" + ")".repeat(90) + " FROM users";
        assertEquals(EMAIL, lineage(sql));
        StringBuilder wide = new StringBuilder("SELECT email");
        for (int i = 0; i < 3000; i++) {
            wide.append(" || email");
        }
        assertEquals(EMAIL, lineage(wide.append(" FROM users").toString()));
        assertEquals(CARD, lineage("SELECT substr(card_number, 1, 4) || substr(card_number, 5) FROM payments"));
    }
}
