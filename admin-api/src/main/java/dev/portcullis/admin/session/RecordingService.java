package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.contract.events.ChainVerifier;
import dev.portcullis.contract.events.HashChain;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Reads recordings: the index and the chain from PostgreSQL, the events from S3, and checks one against the other
 * on every read, so what the API returns is what was recorded.
 */
@ApplicationScoped
public class RecordingService {
    private final RecordingObjects objects;

    RecordingService(RecordingObjects objects) {
        this.objects = objects;
    }

    @WithSession
    public Uni<List<SessionView>> recent(int limit) {
        return SessionEntity.<SessionEntity>findAll(Sort.descending("startedAt").and("id"))
                .page(io.quarkus.panache.common.Page.ofSize(limit)).list()
                .map(rows -> rows.stream().map(SessionView::of).toList());
    }

    /** Events after {@code afterSeq}, at most {@code limit}, each verified against the chain. */
    public Uni<Replay> replay(UUID id, long afterSeq, int limit) {
        return page(id, afterSeq, limit).map(Page::replay);
    }

    /** The transcript of the same page as {@link #replay}. */
    public Uni<String> transcript(UUID id, long afterSeq, int limit) {
        return page(id, afterSeq, limit).map(page -> Transcript.render(page.session(), page.replay()));
    }

    private record Page(SessionEntity session, Replay replay) {
    }

    private Uni<Page> page(UUID id, long afterSeq, int limit) {
        return index(id, afterSeq, limit).emitOn(Infrastructure.getDefaultWorkerPool()).map(index -> {
            List<ObjectNode> events = new ArrayList<>();
            ChainVerifier verifier = new ChainVerifier(id, afterSeq + 1, index.previousHash);
            read(index, verifier, events);
            ChainVerifier.Outcome outcome = verifier.outcome();
            if (!outcome.ok()) {
                throw ApiException.conflict("the recording of session " + id + " does not verify at seq "
                        + outcome.firstBrokenSeq() + ": " + outcome.problem() + "; POST /sessions/" + id
                        + "/verify reports the chain");
            }
            long last = index.links.isEmpty() ? afterSeq : index.links.get(index.links.size() - 1).seq();
            return new Page(index.session, new Replay(id, events, last < index.session.lastSeq ? last : null));
        });
    }

    /** Recomputes the whole chain from S3 and compares it with every indexed link and the chain end. */
    public Uni<Verification> verify(UUID id) {
        return index(id, 0, Integer.MAX_VALUE).emitOn(Infrastructure.getDefaultWorkerPool()).map(index -> {
            ChainVerifier verifier = new ChainVerifier(id);
            read(index, verifier, null);
            return Verification.of(id, index.session.lastSeq, verifier.finish(index.session.lastSeq, index.session.lastHash));
        });
    }

    private void read(Index index, ChainVerifier verifier, List<ObjectNode> events) {
        Map<Long, List<ChainVerifier.Link>> byChunk = new LinkedHashMap<>();
        index.links.forEach(link -> byChunk.computeIfAbsent(link.chunkSeq(), c -> new ArrayList<>()).add(link));
        for (var chunk : byChunk.entrySet()) {
            List<byte[]> lines;
            try {
                lines = objects.lines(index.session.objectPrefix, chunk.getKey());
            } catch (SdkException e) {
                throw new ApiException(503, "the recordings store (S3) cannot be read now; retry later");
            }
            boolean whole = verifier.check(chunk.getValue(), lines, event -> {
                if (events != null) {
                    events.add(event.tree());
                }
            });
            if (!whole) {
                return;
            }
        }
    }

    private record Index(SessionEntity session, List<ChainVerifier.Link> links, byte[] previousHash) {
    }

    private static Uni<Index> index(UUID id, long afterSeq, int limit) {
        return Panache.withSession(() -> SessionEntity.<SessionEntity>findById(id)
                .onItem().ifNull().failWith(() -> ApiException.notFound("session " + id
                        + " is not recorded; GET /sessions lists the recorded ones"))
                .chain(session -> SessionEntity.getSession().chain(db -> db.createNativeQuery("""
                                SELECT seq, chunk_seq, hash FROM session_events
                                WHERE session_id = :id AND seq >= :from ORDER BY seq LIMIT :limit""", Object[].class)
                        .setParameter("id", id)
                        .setParameter("from", Math.max(afterSeq, 1))
                        // the link before the page seeds its chain
                        .setParameter("limit", afterSeq > 0 ? (long) limit + 1 : limit)
                        .getResultList())
                        .map(rows -> {
                            List<ChainVerifier.Link> links = new ArrayList<>(rows.size());
                            byte[] previous = HashChain.start();
                            for (Object[] r : rows) {
                                var link = new ChainVerifier.Link(((Number) r[0]).longValue(), ((Number) r[1]).longValue(), (byte[]) r[2]);
                                if (afterSeq > 0 && link.seq() == afterSeq) {
                                    previous = link.hash();
                                } else {
                                    links.add(link);
                                }
                            }
                            return new Index(session, links, previous);
                        })));
    }
}
