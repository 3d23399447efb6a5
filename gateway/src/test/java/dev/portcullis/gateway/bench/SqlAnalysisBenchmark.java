package dev.portcullis.gateway.bench;

import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.PreparedStatements;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.protocol.postgres.sql.StatementInfo;
import dev.portcullis.gateway.protocol.postgres.sql.TableRef;
import dev.portcullis.gateway.testing.Wire;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The SQL analysis of one query text, the three ways a session meets it (PgRequests calls
 * {@link AnalysisCache#analyze} with the session's prepared statements):
 *
 * <ul>
 * <li>{@code coldParse}: a statement JSqlParser has to parse. {@link SqlAnalyzer} with a parse cache of one entry,
 *     given two spellings that differ only in the case of the first key word, one after the other: each misses.
 * <li>{@code literalsVary}: what {@code -M simple} does all the time, the same statement with other literals.
 *     AnalysisCache (default size) misses on the new text, lexes it and finds the analysis of its shape (the tokens
 *     without the literals' values). {@value Workload#TEXTS} distinct texts in turn, so the exact text never hits.
 * <li>{@code exactRepeat}: the same text again (BEGIN, END, a dashboard's query), an AnalysisCache hit.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@State(Scope.Thread)
public class SqlAnalysisBenchmark {
    private static final int MASK = Workload.TEXTS - 1;

    @Param({"select-only", "tpcb-update", "join-10"})
    public String statement;

    private final PreparedStatements session = new PreparedStatements();
    private SqlAnalyzer oneParseRemembered;
    private String upper;
    private String lower;
    private boolean flip;
    private AnalysisCache cache;
    private String[] texts;
    private int next;
    private String repeated;

    @Setup
    public void setUp() {
        Workload.Statement s = Workload.Statement.of(statement);
        texts = s.distinctTexts(Workload.TEXTS, 42);
        Wire.check(Integer.bitCount(Workload.TEXTS) == 1, "a power of two of texts");
        upper = texts[0];
        Wire.check(upper.startsWith(s.command + " "), "the text starts with " + s.command);
        lower = s.command.toLowerCase(Locale.ROOT) + upper.substring(s.command.length());
        oneParseRemembered = new SqlAnalyzer(new SqlAnalyzer.Limits(1_000, 10_000, 100, 1));
        cache = new AnalysisCache(new SqlAnalyzer());
        repeated = texts[1];

        Analysis cold = coldParse();
        Analysis coldOther = coldParse();
        check(s, cold);
        Wire.check(cold.statements().equals(coldOther.statements()), "both spellings read the same");
        Analysis first = literalsVary();
        Analysis second = literalsVary();
        check(s, first);
        check(s, second);
        Wire.check(first == second && !texts[0].equals(texts[1]), "other literals: one analysis, found by shape");
        Wire.check(first.statements().get(0).normalized().equals(second.statements().get(0).normalized()),
                "other literals, same normalized text");
        Analysis again = exactRepeat();
        Wire.check(again == exactRepeat(), "the same text: AnalysisCache hits");
        next = 0;
    }

    private static void check(Workload.Statement s, Analysis a) {
        Wire.check(a.parseError() == null, s.label + " is read without error: " + a.parseError());
        Wire.check(a.statements().size() == 1, s.label + " is one statement");
        StatementInfo info = a.statements().get(0);
        Wire.check(info.command().equals(s.command), s.label + " is a " + s.command + ", got " + info.command());
        Wire.check(info.tables().size() == s.tables, s.label + " touches " + s.tables + " tables, got " + info.tables());
        if (s == Workload.Statement.TPCB_UPDATE) {
            Wire.check(info.hasWhere() && info.tables().get(0).access().equals(TableRef.WRITE), "the UPDATE writes, with a WHERE");
        }
    }

    @Benchmark
    public Analysis coldParse() {
        flip = !flip;
        return oneParseRemembered.analyze(flip ? upper : lower, session);
    }

    @Benchmark
    public Analysis literalsVary() {
        return cache.analyze(texts[next++ & MASK], session);
    }

    @Benchmark
    public Analysis exactRepeat() {
        return cache.analyze(repeated, session);
    }
}
