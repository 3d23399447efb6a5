package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StatementTextTest {

    private static String parserText(String sql) {
        Tokens t = PgLexer.tokenize(sql);
        return StatementText.forParser(t, 0, t.size()).text();
    }

    @Test
    void literalsAreReplacedAndCommentsDropped() {
        assertEquals("SELECT '' , 0 , $1 FROM t WHERE a = ''",
                parserText("SELECT E'x\\'y', 1.5e3, $1 FROM t /* c */ WHERE a = $tag$;$tag$"));
    }

    @Test
    void tokenBoundariesAreKept() {
        assertEquals("SELECT a.b::int, c->> '' FROM s.t", parserText("SELECT a.b::int, c->>'k' FROM s.t"));
    }

    @Test
    void literalListsShrinkToTheirFirstElement() {
        assertEquals("SELECT * FROM t WHERE a IN ( 0 )", parserText("SELECT * FROM t WHERE a IN (1, 2, 3)"));
        assertEquals("INSERT INTO t VALUES ( 0 )", parserText("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (-3, NULL)"));
    }

    @Test
    void listElementsThatAreNotPlainLiteralsStay() {
        assertEquals("SELECT f( 0 , 0 ::int, g(x))", parserText("SELECT f(1, 2::int, g(x))"));
        assertEquals("INSERT INTO t VALUES ( 0 ), ( 0 , f())", parserText("INSERT INTO t VALUES (1, 2), (3, f())"));
    }
}
