package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any text a client sends as SQL is split into tokens that cover it exactly (only whitespace and comments between
 * them), and analysed without an internal error: what cannot be read is a parse error naming the statement, which the
 * policy denies. A parse remembered for one text never answers for another. Replayed from the corpus in every test
 * run; fuzzed by the fuzz profile (gateway/pom.xml).
 */
class SqlFuzzTest {
    private static final SqlAnalyzer SHARED = new SqlAnalyzer();
    /** Remembers one parse only, so it parses nearly every statement afresh. */
    private static final SqlAnalyzer FRESH = new SqlAnalyzer(new SqlAnalyzer.Limits(1_000, 10_000, 100, 1));

    @FuzzTest(maxExecutions = 200_000)
    @DictionaryEntries({"'", "E'", "U&'", "U&\"", "$$", "$a$", "--", "/*", "*/", "\\", "::", ":=", "0x", "1e+",
            "BEGIN ATOMIC", "CREATE FUNCTION", "END", "CASE", "SELECT", "FROM", "WITH", "COPY", "TO STDOUT", "PREPARE", "EXECUTE"})
    void lexer(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        Tokens t = PgLexer.tokenize(text);
        int end = t.error == null ? text.length() : t.errorOffset;
        assertTrue(end >= 0 && end <= text.length(), "the error offset is inside the text");
        int pos = 0;
        StringBuilder rebuilt = new StringBuilder();
        for (int i = 0; i < t.size(); i++) {
            assertTrue(t.start(i) >= pos && t.end(i) > t.start(i) && t.end(i) <= end, "tokens are non-empty, in order, within the text");
            String gap = text.substring(pos, t.start(i));
            assertEmptyOfTokens(gap);
            assertEquals(!gap.isEmpty(), t.spaceBefore(i), "a token is marked as spaced exactly when whitespace or a comment precedes it");
            if (i > 0 && t.spaceBefore(i)) {
                rebuilt.append(' ');
            }
            rebuilt.append(text, t.start(i), t.end(i));
            pos = t.end(i);
        }
        assertEmptyOfTokens(text.substring(pos, end));
        if (t.error == null) {
            // the same tokens, whatever whitespace and comments stood between them
            Tokens again = PgLexer.tokenize(rebuilt.toString());
            assertNull(again.error, "the tokens rebuilt with single spaces read without error");
            assertEquals(t.size(), again.size(), () -> "as many tokens in " + rebuilt);
            for (int i = 0; i < t.size(); i++) {
                assertEquals(t.kind(i), again.kind(i));
                assertEquals(t.text(i), again.text(i));
            }
        }
    }

    @FuzzTest(maxExecutions = 300)
    @DictionaryEntries({"SELECT ", " FROM ", " WHERE ", "DELETE FROM ", "UPDATE ", " SET ", "INSERT INTO ", " VALUES (",
            "WITH ", " AS (", "COPY ", " TO STDOUT", " TO PROGRAM ", "PREPARE ", "EXECUTE ", "DEALLOCATE ", "EXPLAIN ANALYZE ",
            "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC ", " END", "DO $$", "$$", "SET ", "RESET ", "pg_read_file(", ";",
            "'", "\"", "(", ")", "::", "/*", "*/", "--", "MERGE INTO ", "CALL ", "TRUNCATE ", "ALTER ", "DROP ", "GRANT "})
    void analyzer(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        Analysis a = SHARED.analyze(text, null);
        String error = a.parseError();
        if (error != null) {
            assertFalse(error.contains("could not be analysed ("), () -> "an internal error while analysing: " + error);
            assertTrue(error.startsWith("statement ") && error.length() <= 200, () -> "a short error naming the statement: " + error);
        }
        assertTrue(a.statements().size() <= SqlAnalyzer.Limits.DEFAULT.maxStatements());
        for (StatementInfo s : a.statements()) {
            assertTrue(s.command() != null && !s.command().isEmpty(), "every statement read has a command");
        }
        assertEquals(a, FRESH.analyze(text, null), "a remembered parse gives what a fresh parse gives");
    }

    private static void assertEmptyOfTokens(String gap) {
        if (gap.isEmpty()) {
            return;
        }
        Tokens t = PgLexer.tokenize(gap);
        assertTrue(t.size() == 0 && t.error == null, () -> "only whitespace and comments between tokens, not: " + gap);
    }
}
