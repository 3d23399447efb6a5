package dev.portcullis.admin.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.contract.events.ChainVerifier;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The result of recomputing a session's hash chain from S3 against PostgreSQL, and of checking that the recording
 * is complete. {@code ok} only for a complete, intact recording.
 *
 * @param intact         no stored event was changed, removed or reordered
 * @param complete       session.ended is stored, no seq up to it is missing, and nothing of the session is parked
 * @param events         index rows stored
 * @param lastSeq        the highest seq stored (0 when only parked events exist)
 * @param ended          whether session.ended has arrived and is stored
 * @param verified       events that verified, in order from seq 1
 * @param firstBrokenSeq the first event that does not verify; {@code null} when intact
 * @param problem        what is wrong or missing, for a person; {@code null} when ok
 * @param missing        seqs that are not stored, and why
 * @param parked         the session's runs in the recorder's dead-letter store, not replayed yet
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Verification(UUID sessionId, boolean ok, boolean intact, boolean complete, long events, long lastSeq,
        boolean ended, long verified, Long firstBrokenSeq, String problem, List<Missing> missing, List<ParkedRunView> parked) {

    /**
     * Seqs {@code from_seq} to {@code to_seq} are not stored.
     *
     * @param why {@code parked} (in the dead-letter store: {@code parked_id} and its {@code error}) or
     *            {@code not received} (never reached the recorder; see {@code parked} for unreadable lines of the
     *            session whose seq is unknown)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Missing(long fromSeq, long toSeq, String why, Long parkedId, String error) {
    }

    static Verification of(UUID sessionId, SessionEntity session, long events, ChainVerifier.Outcome outcome,
            List<ParkedRunEntity> parked) {
        long lastSeq = session == null ? 0 : session.lastSeq;
        boolean ended = session != null && session.endReason != null;
        List<Missing> missing = new ArrayList<>();
        for (ChainVerifier.Range gap : outcome.missing()) {
            missing.addAll(explain(gap.from(), gap.to(), parked));
        }
        for (ParkedRunEntity run : parked) { // parked after the stored end
            if (run.firstSeq != null && run.lastSeq != null && run.lastSeq > lastSeq) {
                missing.add(new Missing(Math.max(run.firstSeq, lastSeq + 1), run.lastSeq, "parked", run.id, run.error));
            }
        }
        boolean complete = ended && missing.isEmpty() && parked.isEmpty();
        String problem = outcome.intact() ? null : outcome.problem();
        if (problem == null && !complete) {
            problem = "the recording is incomplete: " + (session == null ? "no event of the session is stored"
                    : lastSeq + " events up to seq " + lastSeq + " stored" + (missing.isEmpty() ? "" : " with seqs missing"))
                    + (ended ? "" : "; session.ended has not arrived (the session is still open, or its last events are"
                    + " still on their way)")
                    + (parked.isEmpty() ? "" : "; " + parked.size() + " run(s) of it are parked: replay them once the cause"
                    + " is fixed (POST /recordings/parked/{id}/replay)");
        }
        return new Verification(sessionId, outcome.intact() && complete, outcome.intact(), complete,
                events, lastSeq, ended, outcome.verified(),
                outcome.firstBrokenSeq(), problem, missing, parked.stream().map(ParkedRunView::of).toList());
    }

    /** A gap, split into the parts that parked runs of the session hold and the parts nobody received. */
    private static List<Missing> explain(long from, long to, List<ParkedRunEntity> parked) {
        List<Missing> parts = new ArrayList<>();
        long next = from;
        for (ParkedRunEntity run : parked) { // ordered by id, which is seq order within a session
            if (run.firstSeq == null || run.lastSeq == null || run.lastSeq < next || run.firstSeq > to) {
                continue;
            }
            if (run.firstSeq > next) {
                parts.add(new Missing(next, run.firstSeq - 1, "not received", null, null));
            }
            parts.add(new Missing(Math.max(next, run.firstSeq), Math.min(to, run.lastSeq), "parked", run.id, run.error));
            next = Math.min(to, run.lastSeq) + 1;
        }
        if (next <= to) {
            parts.add(new Missing(next, to, "not received", null, null));
        }
        return parts;
    }
}
