package dev.portcullis.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.gateway.testing.TestStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The gateway reads OPA's answers exactly as the contract's output schemas say: every valid example of
 * decision.output.schema.json and mask.output.schema.json (policies-rego/schema/examples/) parses into what it says,
 * and every invalid one (examples/invalid/, each of which policies-rego/check-schemas proves the schema rejects) is
 * rejected with a message. The examples are enumerated, so a new one is tested here without a change.
 */
class DecisionParserTest {
    private static final Path EXAMPLES = TestStack.ROOT.resolve("policies-rego/schema/examples");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REVISION = "sha256:0123456789abcdef";

    @TestFactory
    Stream<DynamicTest> every_valid_decision_example_parses_into_what_it_says() throws IOException {
        return examples(EXAMPLES, "decision.output.").stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            JsonNode example = read(file);
            Decision d = DecisionParser.parse(answer(example), REVISION);
            assertEquals(example.get("allow").booleanValue(), d.allow());
            assertEquals(strings(example.get("reasons")), d.reasons());
            assertEquals(example.get("policy").textValue(), d.policy());
            assertEquals(example.get("cache_ttl_s").intValue(), d.cacheTtlS());
            assertEquals(REVISION, d.revision());
            JsonNode a = example.get("approval");
            if (a == null) {
                assertNull(d.approval());
            } else {
                JsonNode g = a.get("grant");
                assertEquals(new Decision.Approval(true, strings(a.get("approver_groups")), a.get("min_approvals").intValue(),
                        a.has("expires_in_s") ? a.get("expires_in_s").intValue() : Decision.Approval.DEFAULT_EXPIRES_IN_S,
                        g == null ? null : new Decision.Grant(g.get("scope").textValue(), g.get("ttl_s").intValue())), d.approval());
            }
            JsonNode m = example.get("mask");
            assertEquals(m == null ? null : new Decision.ResponseMask(m.has("fields") ? strings(m.get("fields")) : List.of(),
                    m.has("detectors") ? strings(m.get("detectors")) : List.of(), m.get("rule").textValue()), d.mask());
            JsonNode groups = example.get("impersonate_groups");
            assertEquals(groups == null ? List.of() : strings(groups), d.impersonateGroups(), "left out means no groups, never all");
        }));
    }

    @TestFactory
    Stream<DynamicTest> every_valid_mask_example_parses_into_what_it_says() throws IOException {
        return examples(EXAMPLES, "mask.output.").stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            JsonNode example = read(file);
            MaskDecision m = DecisionParser.parseMask(answer(example), REVISION);
            assertFalse(m.failed());
            assertEquals(strings(example.get("detectors")), m.detectors());
            assertEquals(example.get("policy").textValue(), m.policy());
            assertEquals(example.get("cache_ttl_s").intValue(), m.cacheTtlS());
            List<MaskDecision.Entry> expected = new ArrayList<>();
            for (JsonNode e : example.get("plan")) {
                JsonNode p = e.path("params");
                expected.add(new MaskDecision.Entry(e.get("column").intValue(), e.get("method").textValue(),
                        p.has("keep_first") ? p.get("keep_first").intValue() : null, p.has("keep_last") ? p.get("keep_last").intValue() : null,
                        p.has("mask_char") ? p.get("mask_char").textValue().charAt(0) : null, e.get("rule").textValue()));
            }
            assertEquals(expected, m.plan());
        }));
    }

    @TestFactory
    Stream<DynamicTest> every_invalid_decision_example_is_rejected_with_a_message() throws IOException {
        return rejected("decision.output.", DecisionParser::parse);
    }

    @TestFactory
    Stream<DynamicTest> every_invalid_mask_example_is_rejected_with_a_message() throws IOException {
        return rejected("mask.output.", DecisionParser::parseMask);
    }

    private static Stream<DynamicTest> rejected(String prefix, BiFunction<JsonNode, String, ?> parser) throws IOException {
        return examples(EXAMPLES.resolve("invalid"), prefix).stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            JsonNode answer = answer(read(file));
            var e = assertThrows(DecisionParser.InvalidDecisionException.class, () -> parser.apply(answer, REVISION),
                    "the schema rejects " + file.getFileName() + ", so the gateway must too");
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a rejection names its cause");
        }));
    }

    // --- what the schemas cannot say, and the messages a client or an operator reads ----------------------------

    @Test
    void a_masking_plan_that_names_a_column_twice_is_rejected() {
        var e = assertThrows(DecisionParser.InvalidDecisionException.class, () -> DecisionParser.parseMask(answer(json("""
                {"plan": [{"column": 0, "method": "redact", "rule": "a/b"}, {"column": 0, "method": "null", "rule": "a/c"}],
                 "detectors": [], "policy": "mask/columns", "cache_ttl_s": 0}""")), REVISION));
        assertEquals("the masking plan names column 0 twice", e.getMessage());
    }

    @Test
    void an_integer_beyond_what_the_gateway_holds_is_rejected() {
        var e = assertThrows(DecisionParser.InvalidDecisionException.class, () -> DecisionParser.parse(answer(json("""
                {"allow": true, "reasons": [], "policy": "pg/role-read", "cache_ttl_s": 2147483648}""")), REVISION));
        assertEquals("the policy decision's 'cache_ttl_s' is larger than the gateway supports (2147483647)", e.getMessage());
    }

    @Test
    void an_undefined_decision_is_rejected_as_such() {
        var e = assertThrows(DecisionParser.InvalidDecisionException.class, () -> DecisionParser.parse(json("{}"), REVISION));
        assertEquals("the policy returned no decision (undefined result)", e.getMessage());
    }

    @Test
    void rejections_name_the_field_and_the_constraint() throws IOException {
        assertEquals("the policy decision's 'allow' is not a boolean", rejection("decision.output.allow-not-boolean.json"));
        assertEquals("the policy decision's approval's 'min_approvals' is less than 1", rejection("decision.output.zero-approvals.json"));
        assertEquals("the policy decision allows and asks for an approval at once", rejection("decision.output.approval-while-allowed.json"));
        assertEquals("the policy decision's 'policy' is not a rule id like pg/role-read: 'role-read'",
                rejection("decision.output.policy-not-a-rule-id.json"));
        assertEquals("the policy decision's mask's 'fields' is empty", rejection("decision.output.mask-without-fields.json"));
        assertEquals("the policy decision's mask names 'data.password', which is not a plain field name",
                rejection("decision.output.mask-field-not-a-name.json"));
    }

    private static String rejection(String invalidExample) throws IOException {
        JsonNode answer = answer(read(EXAMPLES.resolve("invalid").resolve(invalidExample)));
        return assertThrows(DecisionParser.InvalidDecisionException.class, () -> DecisionParser.parse(answer, REVISION)).getMessage();
    }

    // --- helpers ----------------------------------------------------------------------------------------------

    /** The examples of one schema in a folder, sorted; at least one, so that a moved folder cannot pass vacuously. */
    private static List<Path> examples(Path folder, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".json"))
                    .sorted().toList();
            assertFalse(found.isEmpty(), "no " + prefix + "*.json in " + folder);
            return found;
        }
    }

    /** An example is the decision itself; OPA answers {"result": decision}. */
    private static JsonNode answer(JsonNode decision) {
        ObjectNode body = JSON.createObjectNode();
        body.set("result", decision);
        return body;
    }

    private static JsonNode read(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.textValue()));
        return out;
    }
}
