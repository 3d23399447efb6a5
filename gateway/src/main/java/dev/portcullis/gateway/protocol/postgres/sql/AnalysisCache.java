package dev.portcullis.gateway.protocol.postgres.sql;

/**
 * The analyses of recent query texts, for the simple protocol's repeated queries, in two bounded (least recently used
 * first out), thread-safe maps:
 * <ul>
 * <li>by the exact text: {@code BEGIN}, a dashboard's query; a hit is one hash lookup under a short lock;
 * <li>by the text's {@link Shape}, its tokens without the literals' values: {@code -M simple} sends one statement
 *     with new literals each time. A hit costs the lexer's pass and a comparison of the tokens instead of an
 *     analysis, and does not fill the exact map with texts that will not come again.
 * </ul>
 *
 * <p>An analysis that read the session's prepared statements (an {@code EXECUTE}) is never stored, and texts
 * longer than {@code maxTextLength} are not stored either, so the defaults bound the exact map to about 10,000 x
 * 8 KB (text and normalized form) at worst, and to a few megabytes for ordinary statements. The shape map holds at
 * most {@value #DEFAULT_SHAPES} texts of at most {@value #MAX_SHAPE_TEXT_LENGTH} characters with their tokens (about
 * 15 MB at worst). Cached analyses are immutable and can be passed to {@link PreparedStatements#apply} like fresh
 * ones.
 */
public final class AnalysisCache {

    public static final int DEFAULT_ENTRIES = 10_000;
    public static final int DEFAULT_MAX_TEXT_LENGTH = 4_096;
    static final int DEFAULT_SHAPES = 1_024;
    static final int MAX_SHAPE_TEXT_LENGTH = 1_024;

    private final SqlAnalyzer analyzer;
    private final int maxTextLength;
    private final BoundedLru<String, Analysis> entries;
    private final BoundedLru<Shape, Analysis> shapes;

    public AnalysisCache(SqlAnalyzer analyzer) {
        this(analyzer, DEFAULT_ENTRIES, DEFAULT_MAX_TEXT_LENGTH);
    }

    public AnalysisCache(SqlAnalyzer analyzer, int maxEntries, int maxTextLength) {
        this.analyzer = analyzer;
        this.maxTextLength = maxTextLength;
        this.entries = new BoundedLru<>(maxEntries);
        this.shapes = new BoundedLru<>(Math.min(maxEntries, DEFAULT_SHAPES));
    }

    /** Same as {@link SqlAnalyzer#analyze}, from the cache when this text, or one of its shape, was analysed before. */
    public Analysis analyze(String sqlText, PreparedStatements session) {
        if (sqlText == null || sqlText.length() > maxTextLength) {
            return analyzer.analyze(sqlText, session);
        }
        Analysis cached = entries.get(sqlText);
        if (cached != null) {
            return cached;
        }
        Shape shape = null;
        Analysis analysis;
        if (sqlText.length() <= MAX_SHAPE_TEXT_LENGTH) {
            Tokens tokens;
            try {
                tokens = PgLexer.tokenize(sqlText);
            } catch (RuntimeException | StackOverflowError e) {
                return analyzer.analyze(sqlText, session); // which says so
            }
            shape = Shape.of(tokens);
            Analysis ofShape = shape == null ? null : shapes.get(shape);
            if (ofShape != null) {
                return ofShape;
            }
            analysis = analyzer.analyze(tokens, session);
        } else {
            analysis = analyzer.analyze(sqlText, session);
        }
        if (!analysis.readsSession()) {
            entries.put(sqlText, analysis);
        }
        if (shape != null && Shape.holds(analysis)) {
            shapes.put(shape.kept(), analysis);
        }
        return analysis;
    }

    /** How many analyses are held by their exact text. */
    public int size() {
        return entries.size();
    }

    /** How many analyses are held by their shape. */
    int shapes() {
        return shapes.size();
    }
}
