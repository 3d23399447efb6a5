package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The analysis of a text is reused for another text of its shape (AnalysisCache) only when it is the analysis of that
 * text too. Each case analyses a text, then a variant with other literals, through one cache, and compares the answer
 * with a fresh analysis of the variant, field by field, including what the contract does not show (the parser's text,
 * the COPY source).
 */
class ShapeTest {

    /** Statements whose analysis reads a literal's value, mixed with ordinary ones. */
    private static final List<String> TRICKY = List.of(
            "SELECT abalance FROM pgbench_accounts WHERE aid = 12345",
            "UPDATE pgbench_accounts SET abalance = abalance + -411 WHERE aid = 77",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 4521, -411, CURRENT_TIMESTAMP)",
            "SELECT email FROM users ORDER BY 1",
            "SELECT email, name FROM users ORDER BY 2, 1 LIMIT 10",
            "SELECT count(*), name FROM users GROUP BY 2",
            "SELECT a FROM t WHERE b IN (1, 2, 3) ORDER BY a, 1",
            "SELECT split_part(email, '@', 2) FROM users WHERE id = 7",
            "SELECT * FROM users WHERE name = 'x' AND id > 3; SELECT 1",
            "COPY users TO STDOUT WITH (FORMAT csv, NULL 'n/a', DELIMITER ';')",
            "COPY (SELECT email FROM users WHERE id = 5) TO STDOUT",
            "COPY users FROM STDIN WITH (FORMAT csv, HEADER 'true')",
            "PREPARE TRANSACTION 'gid-1'",
            "PREPARE p AS SELECT email FROM users WHERE id = 1",
            "EXECUTE p",
            "SELECT U&\"d\\0061ta\" FROM t UESCAPE '!'",
            "SELECT 'C:\\' FROM t",
            "SET search_path = 'public'",
            "SELECT E'a\\'b', $$x$$, B'101', X'ff', 1.5e3 FROM t",
            "DO $$BEGIN PERFORM 1; END$$",
            "EXPLAIN SELECT * FROM users WHERE id = 1",
            "WITH x AS (DELETE FROM a WHERE id = 3 RETURNING *) SELECT f(1) FROM x ORDER BY g(2)",
            "SELECT * FROM users WHERE id = 1 ORDER BY 1 -- a comment with 'quotes'",
            "SELECT 1 FROM users WHERE 'a' = 'a");

    @Test
    void aVariantGetsExactlyTheAnalysisItWouldGetAlone() throws IOException {
        List<String> texts = new ArrayList<>(TRICKY);
        texts.addAll(psqlCatalogQueries());
        Random random = new Random(7);
        for (String text : texts) {
            for (int round = 0; round < 5; round++) {
                AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
                cache.analyze(text, null);
                String variant = withOtherLiterals(text, random);
                assertSameAnalysis(Sql.analyze(variant), cache.analyze(variant, null), text + "  /  " + variant);
            }
        }
    }

    @Test
    void literalVariantsOfAQueryShareOneAnalysis() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        Analysis first = cache.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 1", null);
        assertSame(first, cache.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 2", null));
        assertSame(first, cache.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 99999", null));
        assertEquals(1, cache.shapes());
    }

    @Test
    void sortPositionsAreNotLiterals() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        Analysis byEmail = cache.analyze("SELECT email, name FROM users ORDER BY 1", null);
        Analysis byName = cache.analyze("SELECT email, name FROM users ORDER BY 2", null);
        assertNotSame(byEmail, byName);
        assertNotEquals(byEmail.statements().get(0).parserText(), byName.statements().get(0).parserText());
    }

    @Test
    void whatReadsALiteralsValueIsNeverReusedByShape() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        for (String text : List.of("COPY users TO STDOUT WITH (NULL 'a')", "COPY (SELECT 1 FROM users WHERE id = 1) TO STDOUT",
                "PREPARE TRANSACTION 'a'", "PREPARE p AS SELECT 1", "SELECT U&\"x\" FROM t UESCAPE '!'", "SELECT 'C:\\' FROM t",
                "SET work_mem = '64MB'", "EXPLAIN SELECT 1")) {
            cache.analyze(text, null);
        }
        assertEquals(0, cache.shapes());
    }

    @Test
    void texsWithOneHashButAnotherShapeAreTwoShapes() {
        // "Aa" and "BB" have one String hash, and so one shape hash at the same place
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        Analysis aa = cache.analyze("SELECT Aa FROM users WHERE id = 1", null);
        Analysis bb = cache.analyze("SELECT BB FROM users WHERE id = 1", null);
        assertEquals("SELECT aa FROM users WHERE id = ?", aa.statements().get(0).normalized());
        assertEquals("SELECT bb FROM users WHERE id = ?", bb.statements().get(0).normalized());
        assertEquals(2, cache.shapes());
    }

    @Test
    void theShapesAreBounded() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        for (int i = 0; i < 3 * AnalysisCache.DEFAULT_SHAPES; i++) {
            cache.analyze("SELECT c" + i + " FROM t WHERE id = " + i, null);
        }
        assertEquals(AnalysisCache.DEFAULT_SHAPES, cache.shapes(), "least recently used out");
        String longText = "SELECT a FROM t WHERE b = '" + "x".repeat(AnalysisCache.MAX_SHAPE_TEXT_LENGTH) + "'";
        AnalysisCache fresh = new AnalysisCache(Sql.ANALYZER);
        fresh.analyze(longText, null);
        assertEquals(0, fresh.shapes(), "texts over " + AnalysisCache.MAX_SHAPE_TEXT_LENGTH + " characters are kept by text only");
    }

    /** The same text with each string and number replaced by another of its kind (a number by another number). */
    static String withOtherLiterals(String text, Random random) {
        Tokens t = PgLexer.tokenize(text);
        StringBuilder out = new StringBuilder();
        int at = 0;
        for (int i = 0; i < t.size(); i++) {
            if (t.kind(i) != Tokens.Kind.STRING && t.kind(i) != Tokens.Kind.NUMBER) {
                continue;
            }
            out.append(text, at, t.start(i));
            if (t.kind(i) == Tokens.Kind.NUMBER) {
                out.append(random.nextInt(3) == 0 ? t.text(i) : Integer.toString(1 + random.nextInt(random.nextBoolean() ? 9 : 100_000)));
            } else {
                out.append(random.nextInt(3) == 0 ? t.text(i) : "'" + "v".repeat(random.nextInt(4)) + "'");
            }
            at = t.end(i);
        }
        return out.append(text, at, text.length()).toString();
    }

    private static void assertSameAnalysis(Analysis expected, Analysis actual, String what) {
        assertEquals(expected, actual, what);
        assertEquals(expected.parseError(), actual.parseError(), what);
        assertEquals(expected.statements().size(), actual.statements().size(), what);
        for (int i = 0; i < expected.statements().size(); i++) {
            StatementInfo e = expected.statements().get(i);
            StatementInfo a = actual.statements().get(i);
            assertEquals(e.parserText(), a.parserText(), what);
            assertEquals(e.normalized(), a.normalized(), what);
            assertEquals(Objects.toString(e.copy()), Objects.toString(a.copy()), what);
        }
        assertEquals(expected.namedResults(), actual.namedResults(), what);
        assertEquals(expected.sessionChanges().toString(), actual.sessionChanges().toString(), what);
    }

    private static List<String> psqlCatalogQueries() throws IOException {
        try (InputStream in = ShapeTest.class.getResourceAsStream("/sql/psql-meta-commands.sql")) {
            String all = new String(Objects.requireNonNull(in).readAllBytes(), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String block : all.split("(?m)^----$")) {
                String sql = block.replaceAll("(?m)^--.*$", "").strip();
                if (!sql.isEmpty()) {
                    out.add(sql);
                }
            }
            return out;
        }
    }
}
