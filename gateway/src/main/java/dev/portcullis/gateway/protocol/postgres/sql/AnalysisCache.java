package dev.portcullis.gateway.protocol.postgres.sql;

/**
 * The analyses of recent query texts, keyed by the exact text, for the simple protocol's repeated queries.
 * Bounded (least recently used first out) and thread-safe; a hit is one hash lookup under a short lock.
 *
 * <p>An analysis that read the session's prepared statements (an {@code EXECUTE}) is never stored, and texts
 * longer than {@code maxTextLength} are not stored either, so the defaults bound the cache to about 10,000 x
 * 8 KB (text and normalized form) at worst, and to a few megabytes for ordinary statements.
 * Cached analyses are immutable and can be passed to {@link PreparedStatements#apply} like fresh ones.
 */
public final class AnalysisCache {

    public static final int DEFAULT_ENTRIES = 10_000;
    public static final int DEFAULT_MAX_TEXT_LENGTH = 4_096;

    private final SqlAnalyzer analyzer;
    private final int maxTextLength;
    private final BoundedLru<String, Analysis> entries;

    public AnalysisCache(SqlAnalyzer analyzer) {
        this(analyzer, DEFAULT_ENTRIES, DEFAULT_MAX_TEXT_LENGTH);
    }

    public AnalysisCache(SqlAnalyzer analyzer, int maxEntries, int maxTextLength) {
        this.analyzer = analyzer;
        this.maxTextLength = maxTextLength;
        this.entries = new BoundedLru<>(maxEntries);
    }

    /** Same as {@link SqlAnalyzer#analyze}, from the cache when this text was analysed before. */
    public Analysis analyze(String sqlText, PreparedStatements session) {
        if (sqlText == null || sqlText.length() > maxTextLength) {
            return analyzer.analyze(sqlText, session);
        }
        Analysis cached = entries.get(sqlText);
        if (cached != null) {
            return cached;
        }
        Analysis analysis = analyzer.analyze(sqlText, session);
        if (!analysis.readsSession()) {
            entries.put(sqlText, analysis);
        }
        return analysis;
    }

    /** How many analyses are held. */
    public int size() {
        return entries.size();
    }
}
