package dev.portcullis.gateway.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.gateway.connection.TargetConnection;
import dev.portcullis.gateway.identity.Identity;
import dev.portcullis.gateway.masking.KeyedHash;
import dev.portcullis.gateway.policy.DecisionInput;
import dev.portcullis.gateway.policy.StackDecider;
import dev.portcullis.gateway.protocol.postgres.codec.PgFrameDecoder;
import dev.portcullis.gateway.protocol.postgres.codec.RowDescription;
import dev.portcullis.gateway.protocol.postgres.sql.Analysis;
import dev.portcullis.gateway.protocol.postgres.sql.AnalysisCache;
import dev.portcullis.gateway.protocol.postgres.sql.ResultStatements;
import dev.portcullis.gateway.protocol.postgres.sql.SqlAnalyzer;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionRegistry;
import dev.portcullis.gateway.testing.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relay's state machine between two EmbeddedChannels, wired by {@link Relay#wire} as the gateway wires it, with
 * decisions and masking plans from the stack's real OPA (the default policies; bob of group developers on a
 * non-production connection, whose role has content detectors). Each behaviour in the simple and the extended
 * protocol: what reaches the backend, and what the client sees, in which order.
 */
class RelayStateMachineTest {
    private static final String ALLOWED_1 = "SELECT 'first' AS a";
    private static final String ALLOWED_2 = "SELECT 'second' AS a";
    private static final String DENIED = "SELECT pg_read_file('/etc/passwd')";
    private static final Wire.Field TEXT_COLUMN = new Wire.Field("a", 0, 0, Wire.TEXT, -1);

    private static StackDecider stack;
    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private Relay relay;
    private Session session;
    private DecisionInput.SessionContext context;
    private MaskPlanner masks;

    @BeforeAll
    static void opa() throws Exception {
        stack = new StackDecider();
    }

    @AfterAll
    static void close() throws Exception {
        stack.close();
    }

    @BeforeEach
    void wire() {
        Identity bob = new Identity("bob-subject", "bob", List.of("developers"), null, Identity.Kind.HUMAN);
        TargetConnection dev = new TargetConnection("relay-test", "postgres", "127.0.0.1", 5432, "db", "owner", null,
                TargetConnection.TlsMode.DISABLE, null, Map.of("env", "dev"));
        context = DecisionInput.SessionContext.of(bob, dev, "127.0.0.1");
        session = new Session("relay-test-session", bob, dev, context,
                new Session.Parts(stack.decider(), null, new SessionRegistry(), null, null), List.of(), Runnable::run, null);
        masks = new MaskPlanner(stack.decider(), new KeyedHash(new byte[32]), null, null, null, Duration.ofSeconds(5));
        client = new EmbeddedChannel();
        backend = new EmbeddedChannel();
        client.pipeline().addLast("frames", new PgFrameDecoder(Wire.MAX_MESSAGE_BYTES, true)).addLast("session", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                relay.fromClient((ByteBuf) msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                relay.clientReadComplete();
            }
        });
        backend.pipeline().addLast("frames", new PgFrameDecoder(Wire.MAX_MESSAGE_BYTES, false));
        relay = Relay.wire(session, client.pipeline().context("session"), backend, (byte) 'I', new AnalysisCache(new SqlAnalyzer()),
                Runnable::run, masks, new Relay.Pids(4242, 77), Wire.MAX_MESSAGE_BYTES, null, Duration.ofSeconds(15), new Relay.Owner() {
                    @Override
                    public void backendClosed() {
                    }

                    @Override
                    public void backendFailed(Throwable cause) {
                        throw new AssertionError(cause);
                    }

                    @Override
                    public void clientTerminated() {
                    }
                });
    }

    @AfterEach
    void release() {
        relay.close();
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
    }

    /**
     * Asks OPA once for each text, as the session would, so the relay's own decision and plan come from the shared
     * cache at once: the state machine then runs on the test's thread, as it runs on an event loop.
     */
    private void decided(String... texts) throws Exception {
        SqlAnalyzer sql = new SqlAnalyzer();
        for (String text : texts) {
            for (String message : List.of(PgRequest.QUERY, PgRequest.PARSE)) {
                Analysis analysis = sql.analyze(text, null);
                PgRequest request = PgRequest.sql(message, "", text, analysis,
                        PredicateColumns.of(analysis, s -> masks.predicateColumns(session.connection(), s)).get(10, TimeUnit.SECONDS), null);
                stack.decider().decide("request", context.with(request.input(), List.of())).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        }
        ByteBuf description = Unpooled.wrappedBuffer(new Wire.Stream().rowDescription(TEXT_COLUMN).bytes());
        for (String text : texts) {
            for (ResultStatements.ResultStatement statement : ResultStatements.of(text)) {
                masks.plan(session, RowDescription.decode(description), statement).get(10, TimeUnit.SECONDS);
            }
            for (var s : sql.analyze(text, null).statements()) {
                // a COPY's columns are its query's; these tests' planner has no catalog connection, so a COPY of a
                // table has no plan here (in the relay, PostgreSQL refuses to describe it before any plan is asked for)
                if (s.copy() != null && s.copy().source() != null) {
                    try {
                        masks.plan(session, RowDescription.decode(description), ResultStatements.of(s.copy().source()).get(0))
                                .get(10, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        // no plan: the relay must not need one
                    }
                }
            }
        }
        description.release();
    }

    private void fromClient(Wire.Stream messages) {
        client.writeInbound(Unpooled.wrappedBuffer(messages.bytes()));
        settle();
    }

    private void fromBackend(Wire.Stream messages) {
        backend.writeInbound(Unpooled.wrappedBuffer(messages.bytes()));
        settle();
    }

    private void settle() {
        for (int i = 0; i < 10; i++) {
            client.runPendingTasks();
            backend.runPendingTasks();
        }
        client.checkException();
        backend.checkException();
    }

    /** A message as one side received it: its type, and its body as text (strings readable, for checks). */
    private record Message(char type, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return type + "(" + text().replace('\0', '|') + ")";
        }
    }

    private static List<Message> drain(EmbeddedChannel channel) {
        ByteBuf all = Unpooled.buffer();
        Object m;
        while ((m = channel.readOutbound()) != null) {
            all.writeBytes((ByteBuf) m);
            ReferenceCountUtil.release(m);
        }
        List<Message> out = new ArrayList<>();
        while (all.isReadable()) {
            char type = (char) all.readByte();
            byte[] body = new byte[all.readInt() - 4];
            all.readBytes(body);
            out.add(new Message(type, body));
        }
        all.release();
        return out;
    }

    private static String types(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        messages.forEach(m -> sb.append(m.type()));
        return sb.toString();
    }

    private static List<String> texts(List<Message> messages, char type) {
        return messages.stream().filter(m -> m.type() == type).map(Message::text).toList();
    }

    @Test
    void simple_a_denied_query_between_two_pipelined_ones_gets_its_error_in_place_and_never_reaches_the_backend() throws Exception {
        decided(ALLOWED_1, DENIED, ALLOWED_2);
        fromClient(new Wire.Stream().query(ALLOWED_1).query(DENIED).query(ALLOWED_2));
        List<Message> sent = drain(backend);
        assertEquals("QQ", types(sent), "only the allowed queries reach the backend: " + sent);
        assertTrue(sent.get(0).text().startsWith(ALLOWED_1) && sent.get(1).text().startsWith(ALLOWED_2), sent.toString());

        fromBackend(new Wire.Stream().rowDescription(TEXT_COLUMN).dataRow("first").commandComplete("SELECT 1").readyForQuery('I')
                .rowDescription(TEXT_COLUMN).dataRow("second").commandComplete("SELECT 1").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("TDCZEZTDCZ", types(seen), "the denial between the two results, with a ReadyForQuery of its own: " + seen);
        assertTrue(seen.get(4).text().contains("Portcullis denied this statement"), seen.get(4).toString());
    }

    @Test
    void extended_a_denied_batch_between_two_pipelined_ones_is_answered_in_place_and_never_reaches_the_backend() throws Exception {
        decided(ALLOWED_1, DENIED, ALLOWED_2);
        fromClient(new Wire.Stream()
                .parse("", ALLOWED_1).bind("", "").describePortal("").execute("", 0).sync()
                .parse("", DENIED).bind("", "").describePortal("").execute("", 0).sync()
                .parse("", ALLOWED_2).bind("", "").describePortal("").execute("", 0).sync());
        List<Message> sent = drain(backend);
        assertEquals("PBDESPBDES", types(sent), "the denied batch is dropped whole, up to and with its Sync: " + sent);

        fromBackend(new Wire.Stream().parseComplete().bindComplete().rowDescription(TEXT_COLUMN).dataRow("first")
                .commandComplete("SELECT 1").readyForQuery('I')
                .parseComplete().bindComplete().rowDescription(TEXT_COLUMN).dataRow("second").commandComplete("SELECT 1")
                .readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("12TDCZEZ12TDCZ", types(seen), seen.toString());
        assertTrue(seen.get(6).text().contains("Portcullis denied this statement"), seen.get(6).toString());
    }

    @Test
    void extended_a_denied_parse_after_forwarded_messages_of_its_batch_is_reported_before_the_batch_ends() throws Exception {
        decided(ALLOWED_1, DENIED);
        fromClient(new Wire.Stream().parse("", ALLOWED_1).bind("", "").describePortal("").execute("", 0)
                .parse("", DENIED).bind("", "").execute("", 0).sync());
        List<Message> sent = drain(backend);
        assertEquals("PBDES", types(sent), "what came before the denied Parse runs; what follows it up to Sync is dropped: " + sent);

        fromBackend(new Wire.Stream().parseComplete().bindComplete().rowDescription(TEXT_COLUMN).dataRow("first")
                .commandComplete("SELECT 1").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("12TDCEZ", types(seen), "the error before the batch's ReadyForQuery, as PostgreSQL would place it: " + seen);
    }

    @Test
    void extended_an_execute_nobody_described_gets_a_describe_from_the_gateway_whose_answer_the_client_never_sees() throws Exception {
        String text = "SELECT 'jane.doe@example.com'::text AS a";
        decided(text);
        fromClient(new Wire.Stream().parse("s1", text).sync());
        assertEquals("PS", types(drain(backend)));
        fromBackend(new Wire.Stream().parseComplete().readyForQuery('I'));
        assertEquals("1Z", types(drain(client)));

        fromClient(new Wire.Stream().bind("", "s1").execute("", 0).sync());
        List<Message> sent = drain(backend);
        assertEquals("BDES", types(sent), "a Describe of the portal goes before the Execute: " + sent);
        assertEquals('P', (char) sent.get(1).body()[0]);

        fromBackend(new Wire.Stream().bindComplete().rowDescription(TEXT_COLUMN).dataRow("jane.doe@example.com")
                .commandComplete("SELECT 1").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("2DCZ", types(seen), "the gateway's Describe is answered to the gateway alone: " + seen);
        assertTrue(seen.get(1).text().contains("j***@example.com") && !seen.get(1).text().contains("jane.doe"),
                "the row is masked with the plan of the shape the gateway asked for: " + seen.get(1));
    }

    @Test
    void extended_a_suspended_portal_goes_on_with_the_same_masking_plan() throws Exception {
        String text = "SELECT 'jane.doe@example.com'::text AS a";
        decided(text);
        fromClient(new Wire.Stream().parse("", text).bind("", "").describePortal("").execute("", 1).execute("", 1).sync());
        assertEquals("PBDEES", types(drain(backend)));
        fromBackend(new Wire.Stream().parseComplete().bindComplete().rowDescription(TEXT_COLUMN).dataRow("jane.doe@example.com")
                .portalSuspended().dataRow("john.roe@example.org").commandComplete("SELECT 1").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("12TDsDCZ", types(seen), seen.toString());
        List<String> rows = texts(seen, 'D');
        assertTrue(rows.get(0).contains("j***@example.com") && rows.get(1).contains("j***@example.org"), rows.toString());
        assertTrue(rows.stream().noneMatch(r -> r.contains("jane.doe") || r.contains("john.roe")), rows.toString());
    }

    private static final String COPY = "COPY (SELECT 'jane.doe@example.com'::text AS a) TO STDOUT";

    private static Wire.Stream copyOut(String... rows) {
        Wire.Stream s = new Wire.Stream().copyOutResponse(1);
        for (String row : rows) {
            s.copyData(row + "\n");
        }
        return s.copyDone();
    }

    /** The gateway's describe of a COPY's query, before the COPY: Parse into its own statement, Describe, Close, then Sync or Flush. */
    private static void assertDescribeOf(List<Message> sent, String query, char end) {
        assertEquals("PDC" + end, types(sent).substring(0, 4), sent.toString());
        assertTrue(sent.get(0).text().startsWith("__portcullis_describe\0" + query + "\0"), sent.get(0).toString());
    }

    @Test
    void simple_a_copy_is_described_on_the_session_s_own_connection_before_it_runs_and_its_rows_are_masked() throws Exception {
        decided(COPY);
        fromClient(new Wire.Stream().query(COPY));
        List<Message> sent = drain(backend);
        assertDescribeOf(sent, "SELECT 'jane.doe@example.com'::text AS a", 'S');
        assertEquals(4, sent.size(), "the COPY waits for its plan: " + sent);

        fromBackend(new Wire.Stream().parseComplete().parameterDescription().rowDescription(TEXT_COLUMN).closeComplete().readyForQuery('T'));
        assertEquals(List.of(), drain(client), "the describe's answers are the gateway's alone");
        sent = drain(backend);
        assertEquals("Q", types(sent), "then the COPY runs: " + sent);

        fromBackend(copyOut("jane.doe@example.com").commandComplete("COPY 1").readyForQuery('T'));
        List<Message> seen = drain(client);
        assertEquals("HdcCZ", types(seen), seen.toString());
        assertTrue(seen.get(1).text().equals("j***@example.com\n"), seen.get(1).toString());
    }

    @Test
    void extended_a_copy_is_described_inside_the_client_s_batch_with_a_flush() throws Exception {
        decided(COPY);
        fromClient(new Wire.Stream().parse("", COPY).bind("", "").execute("", 0).sync());
        List<Message> sent = drain(backend);
        assertDescribeOf(sent, "SELECT 'jane.doe@example.com'::text AS a", 'H');
        fromBackend(new Wire.Stream().parseComplete().parameterDescription().rowDescription(TEXT_COLUMN).closeComplete());
        assertEquals("PBES", types(drain(backend)));
        fromBackend(new Wire.Stream().parseComplete().bindComplete().append(copyOut("jane.doe@example.com"))
                .commandComplete("COPY 1").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("12HdcCZ", types(seen), seen.toString());
        assertEquals("j***@example.com\n", seen.get(3).text());
    }

    @Test
    void simple_a_copy_whose_query_postgres_cannot_describe_is_refused_with_postgres_reason_and_never_runs() throws Exception {
        String copy = "COPY nope TO STDOUT";
        decided(copy);
        fromClient(new Wire.Stream().query(copy));
        assertDescribeOf(drain(backend), "SELECT * FROM nope", 'S');
        fromBackend(new Wire.Stream().errorResponse("42P01", "relation \"nope\" does not exist").readyForQuery('E'));
        List<Message> seen = drain(client);
        assertEquals("EZ", types(seen), seen.toString());
        assertTrue(seen.get(0).text().contains("cannot determine the columns of the COPY: relation \"nope\" does not exist"), seen.toString());
        assertEquals("E", seen.get(1).text(), "the transaction state the describe left (as the COPY itself would have)");
        assertEquals(List.of(), drain(backend), "the COPY never runs");
    }

    @Test
    void simple_a_copy_row_that_does_not_fit_its_plan_is_withheld_and_nothing_of_it_reaches_the_client() throws Exception {
        decided(COPY);
        fromClient(new Wire.Stream().query(COPY));
        drain(backend);
        fromBackend(new Wire.Stream().parseComplete().parameterDescription().rowDescription(TEXT_COLUMN).closeComplete().readyForQuery('I'));
        drain(backend);
        fromBackend(copyOut("jane.doe@example.com", "a@b.example\tsecret-value", "john.roe@example.org").commandComplete("COPY 3")
                .readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("HdEZ", types(seen), "the first row, then the error in place of the rest: " + seen);
        assertTrue(seen.get(2).text().contains("Portcullis withheld this result"), seen.toString());
        String all = seen.toString();
        assertTrue(!all.contains("secret-value") && !all.contains("a@b.example") && !all.contains("john.roe"), all);
    }

    @Test
    void a_notification_from_the_session_s_own_backend_carries_the_pid_the_client_was_given() throws Exception {
        decided(ALLOWED_1);
        fromBackend(new Wire.Stream().notification(4242, "jobs", "ready").notification(999, "jobs", "from another session"));
        List<Message> seen = drain(client);
        assertEquals("AA", types(seen));
        assertEquals(77, ByteBufPid.of(seen.get(0)), "its own backend's pid becomes the one the client knows");
        assertEquals(999, ByteBufPid.of(seen.get(1)), "another session's pid stays as it is");
    }

    private static final class ByteBufPid {
        static int of(Message m) {
            return ((m.body()[0] & 0xff) << 24) | ((m.body()[1] & 0xff) << 16) | ((m.body()[2] & 0xff) << 8) | (m.body()[3] & 0xff);
        }
    }

    @Test
    void simple_rows_are_masked_and_what_follows_a_result_is_untouched() throws Exception {
        decided(ALLOWED_1);
        fromClient(new Wire.Stream().query(ALLOWED_1));
        drain(backend);
        fromBackend(new Wire.Stream().rowDescription(TEXT_COLUMN).dataRow("mail jane.doe@example.com please").dataRow("nothing here")
                .commandComplete("SELECT 2").readyForQuery('I'));
        List<Message> seen = drain(client);
        assertEquals("TDDCZ", types(seen), seen.toString());
        assertEquals(List.of("mail j***@example.com please", "nothing here"),
                texts(seen, 'D').stream().map(t -> t.substring(6)).toList(), "each row's value after its length");
    }
}
