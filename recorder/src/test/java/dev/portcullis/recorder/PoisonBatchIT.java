package dev.portcullis.recorder;

import static dev.portcullis.recorder.testing.SessionStream.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portcullis.contract.events.ChainVerifier;
import dev.portcullis.contract.events.SessionEvent;
import dev.portcullis.contract.events.SessionEvents;
import dev.portcullis.recorder.testing.EventTopic;
import dev.portcullis.recorder.testing.ParkedRow;
import dev.portcullis.recorder.testing.PrivateServices;
import dev.portcullis.recorder.testing.RecorderProcess;
import dev.portcullis.recorder.testing.SessionScript;
import dev.portcullis.recorder.testing.Stack;
import dev.portcullis.recorder.testing.StoredRecording;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What no batch may do to the packaged recorder (issue #12), on the stack's Kafka, PostgreSQL and S3 with a topic and
 * group of this test's own: wedge it with its size, or with its content. Big polls are stored whole, exactly once;
 * what cannot be stored is parked with where it came from and why, the rest goes on, and a replay stores it once the
 * cause is fixed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PoisonBatchIT {
    private static final Duration CATCH_UP = Duration.ofSeconds(120);
    private static final int HTTP_PORT = 29082 + PrivateServices.PORT_OFFSET;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String TOPIC = "portcullis.session-events.poison-" + RUN;
    /** The records the gateway sends: a session's events of one group commit, up to 256 KiB. */
    private static final int MAX_RECORD = 256 * 1024;
    private static RecorderProcess recorder;
    private static S3Client s3;
    private static String bucket;

    @BeforeAll
    static void topic() {
        Stack.ensureUp();
        EventTopic.create(TOPIC, "portcullis-recorder-poison-" + RUN);
        s3 = Stack.s3(Stack.get("S3_ENDPOINT"));
        bucket = Stack.get("S3_BUCKET");
    }

    @AfterAll
    static void stop() throws Exception {
        if (recorder != null) {
            recorder.close();
        }
        EventTopic.delete(TOPIC);
        if (s3 != null) {
            s3.close();
        }
    }

    private static void startRecorder() throws Exception {
        if (recorder == null) {
            recorder = RecorderProcess.start(Path.of("target/poison-" + RUN + "/recorder.log"), HTTP_PORT, List.of(
                    "-Dquarkus.http.port=" + HTTP_PORT,
                    "-Dportcullis.recorder.kafka.topic=" + TOPIC,
                    "-Dportcullis.recorder.kafka.group-id=" + EventTopic.groupId(),
                    "-Dportcullis.recorder.health.refresh-every=1s",
                    "-Dmp.messaging.incoming.session-events.auto.commit.interval.ms=1000"));
        }
    }

    @Test
    @Order(1) // before the recorder starts
    void tens_of_thousands_of_events_in_one_poll_even_70000_of_one_session_are_stored_once_and_the_lag_reaches_0()
            throws Exception {
        // published before the recorder starts, so that its first polls bring as much as Kafka gives at once
        UUID huge = UUID.randomUUID();
        List<List<SessionEvent>> sessions = new ArrayList<>();
        sessions.add(SessionScript.session(huge, Instant.now(), 42_000)); // 2 + 42,000 + 28,000 = 70,002 events
        for (int i = 0; i < 10; i++) {
            sessions.add(SessionScript.session(UUID.randomUUID(), Instant.now(), 1_800));
        }
        publishAsGroupCommits(sessions);
        startRecorder();

        for (List<SessionEvent> session : sessions) {
            UUID id = session.get(0).sessionId();
            await("session " + id + " stored", CATCH_UP, () -> StoredRecording.lastSeq(id) == session.size());
        }
        for (List<SessionEvent> session : sessions) {
            StoredRecording stored = StoredRecording.read(session.get(0).sessionId());
            assertEquals(session.size(), stored.links().size(), "every event indexed once");
            var outcome = stored.verify(s3, bucket);
            assertTrue(outcome.ok(), String.valueOf(outcome));
            long inChunks = stored.chunks().values().stream().mapToLong(c -> c.lastSeq() - c.firstSeq() + 1).sum();
            assertEquals(session.size(), inChunks, "S3 holds every event once");
        }
        assertTrue(StoredRecording.read(huge).chunks().size() >= 7, "the big session was stored in bounded slices");
        assertEquals(0, recorder.counter("portcullis_recorder_batch_retries"), "no write failed: nothing stalled");
        await("the lag to reach 0", CATCH_UP, () -> recorder.gauge("portcullis_recorder_consumer_lag") == 0);
        assertTrue(recorder.ready(), recorder.health("ready"));
    }

    @Test
    @Order(2)
    void an_unreadable_event_and_a_run_the_database_refuses_are_parked_the_rest_is_stored_and_a_replay_stores_them()
            throws Exception {
        startRecorder();
        UUID unreadable = UUID.randomUUID();
        UUID refused = UUID.randomUUID();
        UUID bystander = UUID.randomUUID();
        List<SessionEvent> a = SessionScript.session(unreadable, Instant.now(), 4);
        List<SessionEvent> b = SessionScript.session(refused, Instant.now(), 15); // 2 + 15 + 10 = 27 events
        List<SessionEvent> c = SessionScript.session(bystander, Instant.now(), 15);
        double parkedBefore = gauge("portcullis_recorder_parked_runs");

        // session a: its seq 3 is not an event of the contract (its time is not a time)
        String broken = new String(SessionEvents.toJson(a.get(2)), StandardCharsets.UTF_8)
                .replaceFirst("\"at\":\"[^\"]*\"", "\"at\":\"not a time\"");
        publish(unreadable, a.subList(0, 2), List.of(broken.getBytes(StandardCharsets.UTF_8)), a.subList(3, a.size()));
        // session b: stored up to seq 10; then PostgreSQL refuses its rows for their content (as a constraint added
        // by a DBA would), while it answers everything else
        publish(refused, b.subList(0, 10), List.of(), List.of());
        await("session b up to seq 10", CATCH_UP, () -> StoredRecording.lastSeq(refused) == 10);
        refuseRowsOf(refused);
        try {
            publish(refused, b.subList(10, 20), List.of(), List.of());
            publish(bystander, c, List.of(), List.of());
            await("b's run parked", CATCH_UP, () -> ParkedRow.ofSession(Stack::portcullisDb, refused).size() == 1);
            publish(refused, b.subList(20, b.size()), List.of(), List.of());
            await("b's later events parked behind it", CATCH_UP, () -> ParkedRow.ofSession(Stack::portcullisDb, refused).size() == 2);
            await("the bystander stored", CATCH_UP, () -> StoredRecording.lastSeq(bystander) == c.size());
            await("session a's events after the unreadable one stored", CATCH_UP,
                    () -> StoredRecording.lastSeq(unreadable) == a.size());

            ParkedRow line = ParkedRow.ofSession(Stack::portcullisDb, unreadable).get(0);
            assertEquals("contract violation", line.reason());
            assertEquals(3L, line.firstSeq(), "the seq the line shows");
            assertEquals(TOPIC, line.topic());
            assertTrue(line.error().contains("field at"), line.error());
            var aOutcome = StoredRecording.read(unreadable).verify(s3, bucket);
            assertTrue(aOutcome.intact() && !aOutcome.ok(), String.valueOf(aOutcome));
            assertEquals(List.of(new ChainVerifier.Range(3, 3)), aOutcome.missing(), "verify names the missing seq");

            List<ParkedRow> parked = ParkedRow.ofSession(Stack::portcullisDb, refused);
            assertEquals("store failed", parked.get(0).reason());
            assertEquals(11L, parked.get(0).firstSeq());
            assertEquals(20L, parked.get(0).lastSeq());
            assertTrue(parked.get(0).error().contains("refuses rows of session"), parked.get(0).error());
            assertTrue(parked.get(0).firstOffset() <= parked.get(0).lastOffset());
            assertEquals("quarantined", parked.get(1).reason());
            assertEquals(21L, parked.get(1).firstSeq());
            assertEquals(10, StoredRecording.lastSeq(refused), "nothing of b after the parked run is stored");
            await("the parked runs in the gauge", CATCH_UP, () -> gauge("portcullis_recorder_parked_runs") >= parkedBefore + 3);
            assertTrue(recorder.health("well").contains("Parked recordings"), recorder.health("well"));
            assertTrue(recorder.ready(), "parked runs do not take the recorder out of service");
        } finally {
            allowRowsOf(refused);
        }

        // the cause is fixed: a replay request (what POST /recordings/parked/{id}/replay records)
        long first = ParkedRow.ofSession(Stack::portcullisDb, refused).get(0).id();
        requestReplay(first);
        await("b replayed", CATCH_UP, () -> StoredRecording.lastSeq(refused) == b.size());
        var bOutcome = StoredRecording.read(refused).verify(s3, bucket);
        assertTrue(bOutcome.ok(), String.valueOf(bOutcome));
        assertEquals(b.size(), bOutcome.verified());
        await("both runs replayed, the quarantined one after the first", CATCH_UP, () -> ParkedRow.ofSession(
                Stack::portcullisDb, refused).stream().allMatch(r -> r.state().equals("replayed")));
        assertTrue(StoredRecording.read(bystander).verify(s3, bucket).ok());

        // an unreadable line stays unreadable: a replay keeps it parked, with the error
        requestReplay(ParkedRow.ofSession(Stack::portcullisDb, unreadable).get(0).id());
        await("the replay of the unreadable line to be tried", CATCH_UP,
                () -> ParkedRow.ofSession(Stack::portcullisDb, unreadable).get(0).state().equals("parked"));
        assertTrue(ParkedRow.ofSession(Stack::portcullisDb, unreadable).get(0).error().contains("field at"));
    }

    private static double gauge(String name) throws Exception {
        double v = recorder.gauge(name);
        return Double.isNaN(v) ? 0 : v;
    }

    /** A session's events as one record (JSON Lines), with extra raw lines after {@code before}. */
    private static void publish(UUID session, List<SessionEvent> before, List<byte[]> raw, List<SessionEvent> after) {
        try (KafkaProducer<String, byte[]> producer = EventTopic.producer()) {
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            for (SessionEvent e : before) {
                record.writeBytes(SessionEvents.toWire(e));
                record.write('\n');
            }
            raw.forEach(line -> {
                record.writeBytes(line);
                record.write('\n');
            });
            producer.send(new ProducerRecord<>(TOPIC, session.toString(), record.toByteArray()));
            for (SessionEvent e : after) {
                producer.send(new ProducerRecord<>(TOPIC, session.toString(), SessionEvents.toWire(e)));
            }
            producer.flush();
        }
    }

    /** Each session's events in records of up to 256 KiB, the sessions' records interleaved, as gateways send them. */
    private static void publishAsGroupCommits(List<List<SessionEvent>> sessions) {
        List<List<byte[]>> records = new ArrayList<>();
        for (List<SessionEvent> session : sessions) {
            List<byte[]> mine = new ArrayList<>();
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            for (SessionEvent e : session) {
                byte[] line = SessionEvents.toWire(e);
                if (record.size() + line.length + 1 > MAX_RECORD) {
                    mine.add(record.toByteArray());
                    record.reset();
                }
                record.writeBytes(line);
                record.write('\n');
            }
            mine.add(record.toByteArray());
            records.add(mine);
        }
        try (KafkaProducer<String, byte[]> producer = EventTopic.producer()) {
            for (int i = 0; records.stream().anyMatch(r -> !r.isEmpty()); i++) {
                for (int s = 0; s < records.size(); s++) {
                    if (!records.get(s).isEmpty()) {
                        producer.send(new ProducerRecord<>(TOPIC, sessions.get(s).get(0).sessionId().toString(),
                                records.get(s).remove(0)));
                    }
                }
            }
            producer.flush();
        }
    }

    private static void refuseRowsOf(UUID session) throws SQLException {
        sql("CREATE FUNCTION poison_" + RUN + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " RAISE EXCEPTION 'this database refuses rows of session %', NEW.session_id; END $$",
                "CREATE TRIGGER poison_" + RUN + " BEFORE INSERT ON session_events FOR EACH ROW WHEN (NEW.session_id = '"
                        + session + "') EXECUTE FUNCTION poison_" + RUN + "()");
    }

    private static void allowRowsOf(UUID session) throws SQLException {
        sql("DROP TRIGGER IF EXISTS poison_" + RUN + " ON session_events", "DROP FUNCTION IF EXISTS poison_" + RUN + "()");
    }

    private static void requestReplay(long parkedId) throws SQLException {
        sql("UPDATE parked_runs SET state = 'replay_requested', replay_requested_at = now(),"
                + " replay_requested_by = 'PoisonBatchIT' WHERE id = " + parkedId);
    }

    private static void sql(String... statements) throws SQLException {
        try (Connection db = Stack.portcullisDb(); Statement s = db.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }
}
