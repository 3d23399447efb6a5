package dev.portcullis.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.portcullis.gateway.policy.Decision;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A session may reuse a decision only under the revision that made it, within its TTL. */
class DecisionMemoTest {
    private static Decision decided(String revision, int ttl) {
        return new Decision(true, List.of(), "pg/role-read", null, null, List.of(), ttl, "id", revision, 0, false);
    }

    @Test
    void same_text_under_the_same_revision_is_reused() {
        DecisionMemo memo = new DecisionMemo(Duration.ofMinutes(5));
        Decision d = decided("r1", 300);
        memo.put("SELECT 1", "SELECT 1", d);
        String equalText = new String("SELECT 1".toCharArray());
        assertSame(d, memo.get(equalText, "r1").decision());
        assertNotSame(equalText, memo.get(equalText, "r1").request());
        assertEquals("SELECT 1", memo.get(equalText, "r1").request(), "the hit carries the request it was decided for");
    }

    @Test
    void a_new_revision_or_an_unknown_one_makes_it_ask_again() {
        DecisionMemo memo = new DecisionMemo(Duration.ofMinutes(5));
        memo.put("SELECT 1", "SELECT 1", decided("r1", 300));
        assertNull(memo.get("SELECT 1", null), "revision unknown: nothing may be reused");
        assertNull(memo.get("SELECT 1", "r2"));
        assertNull(memo.get("SELECT 1", "r1"), "the stale entry was dropped");
    }

    @Test
    void uncacheable_decisions_are_not_kept() {
        DecisionMemo memo = new DecisionMemo(Duration.ofMinutes(5));
        memo.put("a", "a", decided("r1", 0));
        memo.put("b", "b", decided(null, 300));
        assertNull(memo.get("a", "r1"));
        assertNull(memo.get("b", "r1"));
    }

    @Test
    void the_configured_maximum_ttl_wins_over_the_policy_ttl() throws Exception {
        DecisionMemo memo = new DecisionMemo(Duration.ofMillis(1));
        memo.put("SELECT 1", "SELECT 1", decided("r1", 300));
        Thread.sleep(5);
        assertNull(memo.get("SELECT 1", "r1"));
    }
}
