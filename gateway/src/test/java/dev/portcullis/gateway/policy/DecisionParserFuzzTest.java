package dev.portcullis.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Whatever OPA answers, the gateway either reads a decision that keeps every rule of the output schemas, or rejects
 * the answer with an {@link DecisionParser.InvalidDecisionException} (the caller denies): never another exception,
 * which would skip the message naming the problem. Replayed from the corpus in every test run; fuzzed by the fuzz
 * profile (gateway/pom.xml).
 */
class DecisionParserFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern POLICY_ID = Pattern.compile("[a-z0-9_.-]+(/[a-z0-9_.-]+)+");
    private static final Set<String> METHODS = Set.of("redact", "null", "hash", "partial", "email", "card");
    private static final Set<String> DETECTORS = Set.of("email", "card", "iban", "phone", "national_id", "secret");

    @FuzzTest(maxExecutions = 80_000)
    @DictionaryEntries({"{\"result\":", "\"allow\":", "true", "false", "\"reasons\":[", "\"policy\":\"pg/x\"", "\"approval\":{",
            "\"required\":true", "\"approver_groups\":[\"dba\"]", "\"min_approvals\":", "\"expires_in_s\":", "\"grant\":{",
            "\"scope\":", "\"ttl_s\":", "\"cache_ttl_s\":", "\"plan\":[", "\"column\":", "\"method\":", "\"params\":{",
            "\"keep_first\":", "\"keep_last\":", "\"mask_char\":", "\"rule\":", "\"detectors\":[", "1e400", "-0.0", "2147483648",
            "300.0", "1E+2", "null"})
    void decisions(FuzzedDataProvider data) {
        JsonNode body;
        try {
            body = JSON.readTree(data.consumeRemainingAsString());
        } catch (JsonProcessingException e) {
            return; // not JSON: the HTTP client's read fails before the parser sees it
        }
        if (body == null || !body.isObject()) {
            return; // OPA's response is an object; readTree of "" is null
        }
        try {
            check(DecisionParser.parse(body, "sha256:0"));
        } catch (DecisionParser.InvalidDecisionException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "a rejection says what is wrong");
        }
        try {
            check(DecisionParser.parseMask(body, "sha256:0"));
        } catch (DecisionParser.InvalidDecisionException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "a rejection says what is wrong");
        }
    }

    private static void check(Decision d) {
        assertTrue(POLICY_ID.matcher(d.policy()).matches(), d.policy());
        assertTrue(d.cacheTtlS() >= 0);
        d.reasons().forEach(r -> assertFalse(r.isEmpty()));
        if (d.allow()) {
            assertNull(d.approval(), "an allow never waits for an approval");
        } else {
            assertFalse(d.reasons().isEmpty(), "a denial gives a reason");
        }
        Decision.ResponseMask mask = d.mask();
        if (mask != null) {
            assertFalse(mask.fields().isEmpty() && mask.detectors().isEmpty(), "a response mask masks something");
            assertTrue(DETECTORS.containsAll(mask.detectors()) && Set.copyOf(mask.detectors()).size() == mask.detectors().size(),
                    mask.detectors().toString());
        }
        Decision.Approval a = d.approval();
        if (a != null) {
            assertTrue(a.required() && !a.approverGroups().isEmpty() && a.minApprovals() >= 1);
            assertTrue(a.expiresInS() >= 1 && a.expiresInS() <= 86_400);
            if (a.grant() != null) {
                assertTrue(!a.grant().scope().isEmpty() && a.grant().scope().length() <= 256);
                assertTrue(a.grant().ttlS() >= 1 && a.grant().ttlS() <= 604_800);
            }
        }
    }

    private static void check(MaskDecision m) {
        assertTrue(POLICY_ID.matcher(m.policy()).matches(), m.policy());
        assertTrue(m.cacheTtlS() >= 0);
        Set<Integer> columns = new HashSet<>();
        for (MaskDecision.Entry e : m.plan()) {
            assertTrue(e.column() >= 0 && columns.add(e.column()), "each column once");
            assertTrue(METHODS.contains(e.method()), e.method());
            assertFalse(e.rule().isEmpty());
            assertTrue(e.keepFirst() == null || e.keepFirst() >= 0);
            assertTrue(e.keepLast() == null || e.keepLast() >= 0);
        }
        assertEquals(m.detectors().size(), new HashSet<>(m.detectors()).size(), "each detector once");
        assertTrue(DETECTORS.containsAll(m.detectors()));
    }
}
