package dev.portcullis.gateway.protocol.postgres.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class AnalysisCacheTest {

    @Test
    void theSameTextIsAnalysedOnce() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        Analysis first = cache.analyze("SELECT * FROM users WHERE id = 1", null);
        assertSame(first, cache.analyze("SELECT * FROM users WHERE id = 1", null));
        assertEquals(1, cache.size());
    }

    @Test
    void executeIsNeverServedFromTheCacheBecauseItDependsOnTheSession() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        PreparedStatements a = new PreparedStatements();
        PreparedStatements b = new PreparedStatements();
        a.apply(cache.analyze("PREPARE p AS SELECT 1", a));
        b.apply(cache.analyze("PREPARE p AS DELETE FROM users", b));
        assertEquals("SELECT", cache.analyze("EXECUTE p", a).statements().get(1).command());
        assertEquals("DELETE", cache.analyze("EXECUTE p", b).statements().get(1).command());
        assertEquals(2, cache.size(), "only the two PREPAREs are cached");
    }

    @Test
    void aCachedPrepareStillTeachesEachSession() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER);
        PreparedStatements a = new PreparedStatements();
        PreparedStatements b = new PreparedStatements();
        a.apply(cache.analyze("PREPARE p AS DELETE FROM users", a));
        b.apply(cache.analyze("PREPARE p AS DELETE FROM users", b));
        assertNull(cache.analyze("EXECUTE p", b).parseError());
    }

    @Test
    void longTextsAreNotCached() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER, 100, 50);
        String sql = "SELECT * FROM users WHERE name = '" + "x".repeat(100) + "'";
        assertNotSame(cache.analyze(sql, null), cache.analyze(sql, null));
        assertEquals(0, cache.size());
    }

    @Test
    void theCacheIsBounded() {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER, 64, 1_000);
        for (int i = 0; i < 1_000; i++) {
            cache.analyze("SELECT " + i, null);
        }
        assertTrue(cache.size() <= 64, "size " + cache.size());
    }

    @Test
    void concurrentUseGivesTheSameAnswers() throws Exception {
        AnalysisCache cache = new AnalysisCache(Sql.ANALYZER, 256, 1_000);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        Analysis a = cache.analyze("UPDATE t" + (i % 300) + " SET a = 1 WHERE id = " + (i % 7), null);
                        if (!a.statements().get(0).tables().equals(List.of(Sql.write("t" + (i % 300))))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
