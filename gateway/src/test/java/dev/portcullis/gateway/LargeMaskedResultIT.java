package dev.portcullis.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.testing.AppProcess;
import dev.portcullis.gateway.testing.Jdbc;
import dev.portcullis.gateway.testing.MaskingTargets;
import dev.portcullis.gateway.testing.PolicyTargets;
import dev.portcullis.gateway.testing.RawPgClient;
import dev.portcullis.gateway.testing.StackResource;
import dev.portcullis.gateway.testing.TestStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged gateway, run as its own process with a 256 MB heap, streams a million-row result with two masked
 * columns: every row arrives, masked. A client that stops reading makes PostgreSQL wait (backpressure), not the
 * gateway buffer. Run by failsafe after the jar is built.
 */
class LargeMaskedResultIT {
    private static final int ROWS = Integer.getInteger("portcullis.it.rows", 1_000_000);
    private static final int PG_PORT = 25440;
    private static final int HTTP_PORT = 18195;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static AppProcess gateway;

    @BeforeAll
    static void start() throws Exception {
        new StackResource().start();
        MaskingTargets.bigUsers(ROWS);
        Path tls = TestStack.ROOT.resolve(".stack/tls");
        gateway = AppProcess.start("gateway", HTTP_PORT, Files.createTempFile("gateway-it", ".log"), List.of(
                "-XX:MaxDirectMemorySize=64m",
                "-Dportcullis.postgres.tls-cert=" + tls.resolve("server.crt"), "-Dportcullis.postgres.tls-key=" + tls.resolve("server.key"),
                "-Dportcullis.kubernetes.enabled=false", "-Dportcullis.ssh.enabled=false", "-Dportcullis.postgres.port=" + PG_PORT));
        System.setProperty("portcullis.test.gateway-port", String.valueOf(PG_PORT));
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty("portcullis.test.gateway-port");
        if (gateway != null) {
            gateway.close();
        }
    }

    private static long heapUsedBytes() throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + HTTP_PORT + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        long used = 0;
        Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} ([0-9.E+]+)").matcher(metrics);
        while (m.find()) {
            used += (long) Double.parseDouble(m.group(1));
        }
        return used;
    }

    @Test
    void a_million_rows_stream_through_masked_within_256_mb() throws Exception {
        Properties p = new Properties();
        p.setProperty("defaultRowFetchSize", "5000");
        long start = System.nanoTime();
        int seen = 0;
        try (Connection c = Jdbc.viaGateway(PolicyTargets.PROD, TestStack.token("alice"), p)) {
            c.setAutoCommit(false); // a portal, fetched 5000 rows at a time
            try (PreparedStatement ps = c.prepareStatement("SELECT id, email, phone FROM big.users"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int id = rs.getInt(1);
                    String email = rs.getString(2);
                    String phone = rs.getString(3);
                    if (!email.equals("u***@example.com") || !phone.equals("+*-***-***-**" + String.format("%02d", id % 100))) {
                        throw new AssertionError("row " + id + " was not masked: " + email + " " + phone);
                    }
                    seen++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("masked %d rows through the gateway in %.1f s (%.0f rows/s); gateway heap now %d MB%n", seen, seconds,
                seen / seconds, heapUsedBytes() >> 20);
        assertEquals(ROWS, seen, "every row arrived");
        assertTrue(gateway.process().isAlive(), "the gateway survived with -Xmx256m");
    }

    @Test
    void a_client_that_stops_reading_makes_postgresql_wait_not_the_gateway_buffer() throws Exception {
        try (RawPgClient client = new RawPgClient(PG_PORT).withoutRecording()) {
            client.login(PolicyTargets.PROD, TestStack.token("alice"));
            client.sendString('Q', "SELECT id, email, phone, repeat('x', 200) AS padding FROM big.users");
            assertEquals('T', client.read().type());
            // Stop reading. The gateway must stop reading PostgreSQL in turn, which then waits to write.
            String waitEvent = null;
            for (int i = 0; i < 100 && !"ClientWrite".equals(waitEvent); i++) {
                Thread.sleep(100);
                try (Connection su = TestStack.superuser("postgres"); var st = su.createStatement();
                        ResultSet rs = st.executeQuery("SELECT wait_event FROM pg_stat_activity WHERE query LIKE 'SELECT id, email, phone, repeat%'"
                                + " AND pid <> pg_backend_pid()")) {
                    waitEvent = rs.next() ? rs.getString(1) : null;
                }
            }
            assertEquals("ClientWrite", waitEvent, "PostgreSQL waits for the gateway, which waits for the client");
            long heap = heapUsedBytes();
            assertTrue(heap < 200L << 20, "the gateway holds no growing buffer: heap " + (heap >> 20) + " MB");
            int rows = 0;
            RawPgClient.Message m;
            while ((m = client.read()).type() != 'Z') {
                if (m.type() == 'D') {
                    rows++;
                    if (!new String(m.body(), StandardCharsets.UTF_8).contains("u***@example.com")) {
                        throw new AssertionError("row " + rows + " was not masked");
                    }
                }
            }
            assertEquals(ROWS, rows, "every row arrived once the client read again");
        }
    }
}
