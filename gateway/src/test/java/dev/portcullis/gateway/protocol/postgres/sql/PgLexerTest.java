package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.protocol.postgres.sql.Tokens.Kind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgLexerTest {

    private static List<String> texts(String sql) {
        Tokens t = PgLexer.tokenize(sql);
        assertNull(t.error, () -> "unexpected lexer error: " + t.error);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            out.add(t.text(i));
        }
        return out;
    }

    private static List<Kind> kinds(String sql) {
        Tokens t = PgLexer.tokenize(sql);
        List<Kind> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            out.add(t.kind(i));
        }
        return out;
    }

    @Test
    void doubledQuoteStaysInsideTheString() {
        assertEquals(List.of("SELECT", "'it''s; fine'", ",", "1"), texts("SELECT 'it''s; fine', 1"));
    }

    @Test
    void backslashEndsNothingInAStandardString() {
        assertEquals(List.of("SELECT", "'a\\'", ",", "'b'"), texts("SELECT 'a\\', 'b'"));
    }

    @Test
    void backslashEscapesTheQuoteInAnEString() {
        assertEquals(List.of("SELECT", "E'\\'; DELETE FROM users; --'"), texts("SELECT E'\\'; DELETE FROM users; --'"));
        assertEquals(List.of("SELECT", "e'\\\\'", ",", "1"), texts("SELECT e'\\\\', 1"));
    }

    @Test
    void prefixedStringsAreOneStringToken() {
        assertEquals(List.of(Kind.STRING, Kind.STRING, Kind.STRING, Kind.STRING),
                kinds("B'101' X'ff' N'n' U&'d\\0061t'"));
    }

    @Test
    void quotedIdentifierKeepsDoubledQuotes() {
        assertEquals(List.of("\"we\"\"ird;\"", ".", "\"T\""), texts("\"we\"\"ird;\".\"T\""));
        assertEquals(Kind.QUOTED_IDENT, kinds("\"x\"").get(0));
    }

    @Test
    void dollarQuotesWithAndWithoutTagEndOnlyAtTheSameTag() {
        assertEquals(List.of("SELECT", "$$a;'b$$"), texts("SELECT $$a;'b$$"));
        assertEquals(List.of("SELECT", "$fn$ $$ ; $x$ $fn$", ";", "SELECT"), texts("SELECT $fn$ $$ ; $x$ $fn$; SELECT"));
    }

    @Test
    void dollarInsideAnIdentifierIsPartOfIt() {
        assertEquals(List.of("SELECT", "a$b$", "FROM", "t"), texts("SELECT a$b$ FROM t"));
        assertEquals(List.of(Kind.WORD, Kind.PARAM, Kind.OPERATOR, Kind.PARAM), kinds("SELECT $1 + $22"));
    }

    @Test
    void commentsAreNotTokensAndBlockCommentsNest() {
        assertEquals(List.of("SELECT", "1"), texts("/* a /* b; */ c; */ SELECT -- x; y\n 1"));
    }

    @Test
    void operatorStopsBeforeACommentAndLosesATrailingMinus() {
        assertEquals(List.of("a", "=", "-", "1"), texts("a=-1"));
        assertEquals(List.of("a", "@-", "1"), texts("a@-1"));
        assertEquals(List.of("1", "+", "2"), texts("1+--c\n2"));
        assertEquals(List.of("x", "::", "int", "->>", "'k'"), texts("x::int->>'k'"));
    }

    @Test
    void numbersIncludeDecimalsExponentsAndPostgres16Forms() {
        assertEquals(List.of(Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.NUMBER, Kind.NUMBER),
                kinds("1 1.5 .5 1e10 0x1F 1_000"));
        assertEquals(List.of("t", ".", "a"), texts("t.a"));
    }

    @Test
    void stringsSeparatedByANewlineAreOneConstant() {
        assertEquals(List.of("SELECT", "'a'\n  'b'"), texts("SELECT 'a'\n  'b'"));
        assertEquals(List.of("SELECT", "'a'", "'b'"), texts("SELECT 'a' 'b'"));
    }

    @Test
    void unterminatedConstructsReportWhereTheyStart() {
        assertTrue(PgLexer.tokenize("SELECT 'abc").error.startsWith("unterminated quoted string at or near \"'abc"));
        assertTrue(PgLexer.tokenize("SELECT E'abc\\'").error.startsWith("unterminated quoted string"));
        assertTrue(PgLexer.tokenize("SELECT \"abc").error.startsWith("unterminated quoted identifier"));
        assertTrue(PgLexer.tokenize("SELECT $x$ abc $y$").error.startsWith("unterminated dollar-quoted string"));
        assertTrue(PgLexer.tokenize("SELECT 1 /* a /* b */").error.startsWith("unterminated /* comment"));
    }

    @Test
    void tokensBeforeAnErrorStayReadable() {
        Tokens t = PgLexer.tokenize("SELECT 1; SELECT 'x");
        assertEquals(4, t.size());
        assertEquals(17, t.errorOffset);
    }
}
