package dev.portcullis.admin.approval;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.portcullis.admin.OidcTokens;
import dev.portcullis.admin.approval.HeldRequests.Held;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook against a receiver that is the customer's Slack endpoint (a JDK HttpServer on the port the profile gave
 * the admin API): down while requests are voted on, then back.
 */
@QuarkusTest
@TestProfile(ApprovalsProfile.class)
class WebhookDeliveryTest extends HeldRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One POST the receiver took. */
    record Delivery(long id, String event, String signature, byte[] body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    HttpServer receiver;
    final List<Delivery> received = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopReceiver() {
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void notifications_wait_while_the_receiver_is_down_then_arrive_once_in_order_and_signed() throws Exception {
        UUID approved = held.create(Held.byAlice(connection));
        UUID denied = held.create(Held.byAlice(connection));

        // The receiver is down (nothing listens on its port): votes go through all the same.
        as(OidcTokens.CAROL).body(Map.of("comment", "go ahead")).post("/approvals/" + approved + "/approve").then()
                .statusCode(200).body("state", equalTo("approved"));
        as(OidcTokens.CAROL).body(Map.of("comment", "not now")).post("/approvals/" + denied + "/deny").then()
                .statusCode(200).body("state", equalTo("denied"));
        String attempted = "SELECT count(*) FROM approval_notifications WHERE request_id = ? AND attempts >= 2"
                + " AND last_error LIKE '%refused%' AND delivered_at IS NULL";
        await("both requests' first notifications were tried and retried", () -> count(attempted, approved) == 1
                && count(attempted, denied) == 1);
        as(OidcTokens.CAROL).get("/approvals/" + approved).then().statusCode(200)
                .body("notifications[0].status", equalTo("pending"))
                .body("notifications[0].last_error", containsString("refused the connection"))
                .body("notifications[1].attempts", equalTo(0));

        // The receiver is back: everything arrives.
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), ApprovalsProfile.webhookPort()), 16);
        receiver.createContext("/hooks/portcullis", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            received.add(new Delivery(Long.parseLong(exchange.getRequestHeaders().getFirst("X-Portcullis-Delivery")),
                    exchange.getRequestHeaders().getFirst("X-Portcullis-Event"),
                    exchange.getRequestHeaders().getFirst("X-Portcullis-Signature"), body));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        String undelivered = "SELECT count(*) FROM approval_notifications WHERE request_id = ? AND delivered_at IS NULL";
        await("every notification was delivered", () -> count(undelivered, approved) == 0 && count(undelivered, denied) == 0);

        List<Long> ids = new ArrayList<>();
        for (Delivery d : received) {
            assertFalse(ids.contains(d.id()), "delivery " + d.id() + " arrived twice");
            ids.add(d.id());
            assertEquals(sign(d.body()), d.signature(), "signature of delivery " + d.id());
        }
        List<Delivery> ofApproved = of(approved);
        List<Delivery> ofDenied = of(denied);
        assertEquals(List.of("created", "vote", "approved"), ofApproved.stream().map(Delivery::event).toList());
        assertEquals(List.of("created", "vote", "denied"), ofDenied.stream().map(Delivery::event).toList());
        for (List<Delivery> request : List.of(ofApproved, ofDenied)) {
            List<Long> order = request.stream().map(Delivery::id).toList();
            assertEquals(order.stream().sorted().toList(), order, "in order per request");
        }

        JsonNode vote = ofApproved.get(1).json();
        assertTrue(vote.get("text").asText().startsWith("carol approved request " + approved + " (1 of 1): go ahead"),
                vote.get("text").asText());
        assertEquals("section", vote.get("blocks").get(0).get("type").asText());
        JsonNode p = vote.get("portcullis");
        assertEquals(ofApproved.get(1).id(), p.get("delivery").asLong());
        assertEquals("pending", p.get("state").asText());
        assertEquals("carol", p.get("actor").get("subject").asText());
        assertEquals("approve", p.get("verdict").asText());
        assertEquals("alice", p.get("requester").get("subject").asText());
        assertEquals(connection, p.get("connection").get("name").asText());
        assertEquals("DELETE FROM orders", p.get("summary").asText());
        assertTrue(p.has("expires_at") && p.has("created_at"), p.toString());
        JsonNode created = ofApproved.get(0).json();
        assertTrue(created.get("text").asText().startsWith("Approval needed: alice wants to run `DELETE FROM orders` on "
                + connection), created.get("text").asText());
        assertTrue(created.get("portcullis").get("actor").isNull());
        JsonNode end = ofDenied.get(2).json().get("portcullis");
        assertEquals("denied", end.get("state").asText());
        assertEquals("not now", end.get("comment").asText());
        assertEquals("carol", end.get("actor").get("name").asText());
        as(OidcTokens.CAROL).get("/approvals/" + denied).then().statusCode(200)
                .body("notifications.status", org.hamcrest.Matchers.everyItem(equalTo("delivered")));
    }

    private List<Delivery> of(UUID request) {
        return received.stream().filter(d -> d.json().get("portcullis").get("request_id").asText().equals(request.toString()))
                .toList();
    }

    private long count(String sql, UUID request) {
        try {
            return Long.parseLong(held.scalar(sql, request));
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sign(byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(ApprovalsProfile.webhookSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
