package dev.portcullis.gateway.protocol.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.policy.Decision;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shapes in which the API server returns Secrets, as the real kube-apiserver writes them (KubectlSecretMaskingTest
 * shows the same through kubectl): every value masked, every key kept, nothing else changed; and what the masker
 * cannot read is refused, never passed on.
 */
class ObjectMaskerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMasker MASKER = new ObjectMasker(new Decision.ResponseMask(List.of("data", "stringData"),
            "k8s/secret-values"));
    private static final String SECRET = """
            {"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","namespace":"demo-dev","annotations":{
              "kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"Secret\\",\\"stringData\\":{\\"password\\":\\"s3cr3t\\"}}\\n",
              "team":"web"}},
             "type":"Opaque","data":{"password":"czNjcjN0","username":"YXBw"},"stringData":{"token":"plain"}}""";

    @Test
    void a_secret_keeps_its_keys_and_loses_every_value() throws Exception {
        JsonNode masked = mask(SECRET);
        assertEquals("Kioq", masked.at("/data/password").asText());
        assertEquals("Kioq", masked.at("/data/username").asText());
        assertEquals("***", masked.at("/stringData/token").asText());
        assertEquals("Opaque", masked.at("/type").asText());
        assertEquals("web", masked.at("/metadata/annotations/team").asText());
        assertFalse(masked.toString().contains("czNjcjN0") || masked.toString().contains("s3cr3t") || masked.toString().contains("plain"),
                masked.toString());
    }

    @Test
    void the_copy_kubectl_apply_keeps_in_an_annotation_is_masked_too() throws Exception {
        String applied = mask(SECRET).at("/metadata/annotations").get(ObjectMasker.LAST_APPLIED).asText();
        assertEquals("***", JSON.readTree(applied).at("/stringData/password").asText());
        JsonNode garbled = mask(SECRET.replace("{\\\"apiVersion", "not json {\\\"apiVersion"));
        assertEquals("***", garbled.at("/metadata/annotations").get(ObjectMasker.LAST_APPLIED).asText());
    }

    @Test
    void every_item_of_a_list_is_masked() throws Exception {
        JsonNode masked = mask("{\"kind\":\"SecretList\",\"items\":[" + SECRET + "," + SECRET + "]}");
        for (JsonNode item : masked.get("items")) {
            assertEquals("Kioq", item.at("/data/password").asText());
        }
    }

    @Test
    void a_tables_embedded_objects_and_a_watch_events_object_are_masked() throws Exception {
        JsonNode table = mask("{\"kind\":\"Table\",\"columnDefinitions\":[],\"rows\":[{\"cells\":[\"db\",\"Opaque\",2],\"object\":"
                + SECRET + "}]}");
        assertEquals("Kioq", table.at("/rows/0/object/data/password").asText());
        assertEquals("db", table.at("/rows/0/cells/0").asText());
        JsonNode event = mask("{\"type\":\"MODIFIED\",\"object\":" + SECRET + "}");
        assertEquals("Kioq", event.at("/object/data/password").asText());
        JsonNode tableEvent = mask("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\",\"rows\":[{\"object\":" + SECRET + "}]}}");
        assertEquals("***", tableEvent.at("/object/rows/0/object/stringData/token").asText());
    }

    @Test
    void a_masked_field_that_is_not_a_map_is_replaced_whole() throws Exception {
        JsonNode masked = mask("{\"kind\":\"Secret\",\"data\":[\"czNjcjN0\"],\"stringData\":\"s3cr3t\"}");
        assertEquals("Kioq", masked.get("data").asText());
        assertEquals("***", masked.get("stringData").asText());
    }

    @Test
    void a_status_passes_unchanged() throws Exception {
        String status = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"secrets \\\"x\\\" not found\","
                + "\"reason\":\"NotFound\",\"code\":404}";
        assertEquals(JSON.readTree(status), mask(status));
    }

    @Test
    void what_is_not_a_json_object_is_refused() {
        for (String bad : List.of("k8s\0protobuf", "[" + SECRET + "]", "\"czNjcjN0\"", "{\"data\":{\"a\":")) {
            var e = assertThrows(ObjectMasker.Unmaskable.class, () -> mask(bad), bad);
            assertTrue(e.getMessage().startsWith("the API server's answer is not"), e.getMessage());
        }
    }

    @Test
    void objects_nested_deeper_than_the_api_nests_them_are_refused() {
        String deep = "{\"type\":\"ADDED\",\"object\":".repeat(8) + SECRET + "}".repeat(8);
        var e = assertThrows(ObjectMasker.Unmaskable.class, () -> mask(deep));
        assertTrue(e.getMessage().contains("deeper"), e.getMessage());
    }

    private static JsonNode mask(String document) throws Exception {
        byte[] bytes = document.getBytes(StandardCharsets.UTF_8);
        return JSON.readTree(MASKER.mask(bytes, 0, bytes.length));
    }
}
