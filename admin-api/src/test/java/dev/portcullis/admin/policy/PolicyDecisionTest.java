package dev.portcullis.admin.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** OPA's answers are read strictly: only a decision of the contract allows or refuses; anything else is no answer. */
class PolicyDecisionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PolicyDecision parse(String body) throws Exception {
        return PolicyDecision.parse(JSON.readTree(body), "portcullis/approve");
    }

    @Test
    void an_allowing_decision_allows() throws Exception {
        PolicyDecision d = parse("""
                {"result": {"allow": true, "reasons": ["allowed: carol may approve"], "policy": "approve/approver-group",
                 "cache_ttl_s": 0}}""");
        assertTrue(d.answered());
        assertTrue(d.allowed());
        assertEquals("approve/approver-group", d.policy());
    }

    @Test
    void a_refusal_refuses_with_its_reasons() throws Exception {
        PolicyDecision d = parse("""
                {"result": {"allow": false, "reasons": ["it is their own"], "policy": "approve/self-approval",
                 "cache_ttl_s": 0.0}}""");
        assertTrue(d.answered());
        assertFalse(d.allowed());
        assertEquals(List.of("it is their own"), d.reasons());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "{}                                                                                  | no portcullis/approve decision (undefined",
        "{\"result\": null}                                                                  | no portcullis/approve decision (undefined",
        "{\"result\": true}                                                                  | is not a JSON object",
        "{\"result\": {\"allow\": \"yes\", \"reasons\": [], \"policy\": \"a/b\", \"cache_ttl_s\": 0}} | has no boolean 'allow'",
        "{\"result\": {\"allow\": true, \"policy\": \"a/b\", \"cache_ttl_s\": 0}}                   | has no 'reasons' list",
        "{\"result\": {\"allow\": true, \"reasons\": [7], \"policy\": \"a/b\", \"cache_ttl_s\": 0}}  | a reason that is not a non-empty string",
        "{\"result\": {\"allow\": true, \"reasons\": [], \"policy\": \"ab\", \"cache_ttl_s\": 0}}    | names no rule",
        "{\"result\": {\"allow\": true, \"reasons\": [], \"policy\": \"a/b\"}}                      | 'cache_ttl_s'",
        "{\"result\": {\"allow\": true, \"reasons\": [], \"policy\": \"a/b\", \"cache_ttl_s\": 0.5}} | 'cache_ttl_s'",
        "{\"result\": {\"allow\": false, \"reasons\": [], \"policy\": \"a/b\", \"cache_ttl_s\": 0}}  | refuses without a reason",
        "{\"result\": {\"allow\": true, \"reasons\": [], \"policy\": \"a/b\", \"cache_ttl_s\": 0, \"why\": 1}} | unknown field 'why'",
        "{\"result\": {\"allow\": false, \"reasons\": [\"x\"], \"policy\": \"a/b\", \"cache_ttl_s\": 0, \"approval\": {}}} | carries an 'approval'",
    })
    void anything_else_is_no_answer_and_says_what_is_wrong(String body, String expected) throws Exception {
        PolicyDecision d = parse(body);
        assertFalse(d.answered());
        assertFalse(d.allowed());
        assertTrue(d.problem().contains(expected.strip()), d.problem());
    }
}
