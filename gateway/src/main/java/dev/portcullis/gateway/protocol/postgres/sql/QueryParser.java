package dev.portcullis.gateway.protocol.postgres.sql;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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

    /** The facts of one statement's parser text, parsed by {@code deadline} (System.nanoTime()) or failed closed. */
    Facts facts(String parserText, long deadline) {
        boolean cacheable = parserText.length() <= MAX_CACHED_TEXT;
        Facts cached = cacheable ? cache.get(parserText) : null;
        if (cached != null) {
            return cached;
        }
        Facts facts;
        boolean stopped;
        try (Watchdog watchdog = new Watchdog(deadline)) {
            facts = parse(parserText, watchdog);
            stopped = watchdog.stopped;
        }
        if (cacheable && !stopped) { // a parse cut short by a busy machine may succeed the next time
            cache.put(parserText, facts);
        }
        return facts;
    }

    /**
     * Stops a parse that runs past its deadline: JSqlParser backtracks exponentially on some short texts
     * (its complex mode on {@code SELECT(((((x} runs for minutes), and any logged-in client may send them. Its
     * {@code interrupted} flag makes it give up at its next choice, within milliseconds.
     */
    private static final class Watchdog implements AutoCloseable {
        private volatile CCJSqlParser parser;
        private volatile boolean stopped;
        private final ScheduledFuture<?> timer;

        Watchdog(long deadline) {
            timer = WATCHDOG.schedule(this::stop, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        CCJSqlParser watch(CCJSqlParser p) {
            parser = p;
            if (stopped) {
                p.interrupted = true;
            }
            return p;
        }

        private void stop() {
            stopped = true;
            CCJSqlParser p = parser;
            if (p != null) {
                p.interrupted = true;
            }
        }

        @Override
        public void close() {
            timer.cancel(false);
        }
    }

    /**
     * The longest the parses of one request's statements may take together; a statement not parsed by then fails
     * closed, as text the analyser cannot read.
     */
    static final Duration PARSE_BUDGET = Duration.ofSeconds(1);

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sql-parse-watchdog");
        t.setDaemon(true);
        return t;
    });

    private static Facts parse(String text, Watchdog watchdog) {
        Statement statement;
        try {
            statement = parseStatement(text, watchdog);
        } catch (ParseException e) {
            if (watchdog.stopped) {
                return Facts.failed(tooComplex());
            }
            return Facts.failed(syntaxError(e));
        } catch (StackOverflowError e) {
            return Facts.failed("nested too deeply to analyse");
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError vmError) {
                throw vmError;
            }
            return Facts.failed("syntax error (" + failure(e) + ")");
        }
        if (watchdog.stopped) { // an interrupted parse may have taken a shortcut: its tree is not trusted
            return Facts.failed(tooComplex());
        }
        if (statement == null || statement instanceof UnsupportedStatement) {
            return Facts.failed("statement form not supported by the SQL analyser");
        }
        AstFacts.Result result = AstFacts.of(statement);
        return new Facts(AstFacts.command(statement), result.tables(), result.functions(), AstFacts.hasWhere(statement),
                null);
    }

    /**
     * The parse tree of a parser text, or null when it cannot be read by {@code deadline} (System.nanoTime()). Not
     * cached: a tree is many times the size of its facts; only the column lineage of a new result shape needs one.
     */
    static Statement tree(String parserText, long deadline) {
        try (Watchdog watchdog = new Watchdog(deadline)) {
            Statement statement = parseStatement(parserText, watchdog);
            return watchdog.stopped || statement instanceof UnsupportedStatement ? null : statement;
        } catch (ParseException | RuntimeException | StackOverflowError e) {
            return null;
        }
    }

    private static Statement parseStatement(String text, Watchdog watchdog) throws ParseException {
        try {
            return watchdog.watch(newParser(text).withAllowComplexParsing(false)).Statement();
        } catch (ParseException simple) {
            if (watchdog.stopped || CCJSqlParserUtil.getNestingDepth(text) > COMPLEX_PARSING_MAX_NESTING) {
                throw simple;
            }
            try {
                return watchdog.watch(newParser(text).withAllowComplexParsing(true)).Statement();
            } catch (ParseException complex) {
                throw simple; // the simple mode names the offending token more usefully
            }
        }
    }

    private static CCJSqlParser newParser(String text) {
        return new CCJSqlParser(new StringProvider(text));
    }

    /** The parse error of a statement not parsed within {@link #PARSE_BUDGET}. */
    static String tooComplex() {
        return "too complex to analyse within " + PARSE_BUDGET.toMillis() + " ms";
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

    /**
     * A parser failure other than a ParseException, in words. JSqlParser's own exceptions say where; a JVM exception
     * from inside the parser (an index out of bounds) only names its kind: its message says nothing to a user, and the
     * JIT may throw it without one (fast throw), so the same text would fail one way, then another.
     */
    private static String failure(Throwable e) {
        return e.getClass().getName().startsWith("java.") ? "the parser failed: " + e.getClass().getSimpleName()
                : firstLine(e.getMessage());
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String line = message.strip().lines().findFirst().orElse("unreadable");
        return line.length() > 80 ? line.substring(0, 80) + "..." : line;
    }
}
