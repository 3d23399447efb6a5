package dev.portcullis.gateway.protocol.postgres.sql;

import java.util.List;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.parser.ParseException;
import net.sf.jsqlparser.parser.StringProvider;
import net.sf.jsqlparser.parser.Token;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.UnsupportedStatement;

/**
 * Runs JSqlParser on the caller's thread and remembers the outcome per parser text. JSqlParser costs tens to
 * hundreds of microseconds per statement, while the parser text (literals already replaced) repeats
 * constantly, so most statements are parsed once. {@code CCJSqlParserUtil.parse} is not used: it starts a thread per call
 * and logs every call at INFO.
 */
final class QueryParser {

    /** What the parse tree says; {@code error} is set (and the rest empty) when there is none. */
    record Facts(String command, List<TableRef> tables, List<String> functions, boolean hasWhere, String error) {

        static Facts failed(String error) {
            return new Facts(null, List.of(), List.of(), false, error);
        }
    }

    /** JSqlParser's own limit for its slower, more complete mode: beyond it the retry can take seconds. */
    private static final int COMPLEX_PARSING_MAX_NESTING = CCJSqlParserUtil.ALLOWED_NESTING_DEPTH;

    /** Longer texts are parsed every time, so that the cache stays within a few tens of megabytes. */
    static final int MAX_CACHED_TEXT = 4_096;

    private final BoundedLru<String, Facts> cache;

    QueryParser(int cacheEntries) {
        this.cache = new BoundedLru<>(cacheEntries);
    }

    Facts facts(String parserText) {
        boolean cacheable = parserText.length() <= MAX_CACHED_TEXT;
        Facts cached = cacheable ? cache.get(parserText) : null;
        if (cached != null) {
            return cached;
        }
        Facts facts = parse(parserText);
        if (cacheable) {
            cache.put(parserText, facts);
        }
        return facts;
    }

    private static Facts parse(String text) {
        Statement statement;
        try {
            statement = parseStatement(text);
        } catch (ParseException e) {
            return Facts.failed(syntaxError(e));
        } catch (StackOverflowError e) {
            return Facts.failed("nested too deeply to analyse");
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError vmError) {
                throw vmError;
            }
            return Facts.failed("syntax error (" + firstLine(e.getMessage()) + ")");
        }
        if (statement == null || statement instanceof UnsupportedStatement) {
            return Facts.failed("statement form not supported by the SQL analyser");
        }
        AstFacts.Result result = AstFacts.of(statement);
        return new Facts(AstFacts.command(statement), result.tables(), result.functions(), AstFacts.hasWhere(statement),
                null);
    }

    private static Statement parseStatement(String text) throws ParseException {
        try {
            return newParser(text).withAllowComplexParsing(false).Statement();
        } catch (ParseException simple) {
            if (CCJSqlParserUtil.getNestingDepth(text) > COMPLEX_PARSING_MAX_NESTING) {
                throw simple;
            }
            try {
                return newParser(text).withAllowComplexParsing(true).Statement();
            } catch (ParseException complex) {
                throw simple; // the simple mode names the offending token more usefully
            }
        }
    }

    private static CCJSqlParser newParser(String text) {
        return new CCJSqlParser(new StringProvider(text));
    }

    private static String syntaxError(ParseException e) {
        Token at = e.currentToken == null ? null : e.currentToken.next;
        if (at == null || at.kind == 0) {
            return "syntax error at end of input";
        }
        String image = at.image == null ? "" : at.image;
        if (image.length() > 40) {
            image = image.substring(0, 40) + "...";
        }
        return "syntax error at or near \"" + image + "\"";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String line = message.strip().lines().findFirst().orElse("unreadable");
        return line.length() > 80 ? line.substring(0, 80) + "..." : line;
    }
}
