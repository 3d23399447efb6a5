package dev.portcullis.admin.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.contract.events.Asciicast;
import dev.portcullis.contract.events.ChainVerifier;
import dev.portcullis.contract.events.HashChain;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.HashMap;
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

    /** Events after {@code afterSeq}, at most {@code limit}, each verified against the chain. */
    public Uni<Replay> replay(UUID id, long afterSeq, int limit) {
        return page(id, afterSeq, limit).map(Page::replay);
    }

    /** The session's interactive streams (of one request, or all) as an asciicast v2 recording, verified as it is read. */
    public Uni<String> asciicast(UUID id, Long requestSeq) {
        return cast(id, 0, new Asciicast(requestSeq));
    }

    private Uni<String> cast(UUID id, long afterSeq, Asciicast cast) {
        return page(id, afterSeq, SessionResource.MAX_PAGE).flatMap(page -> {
            try {
                cast.add(page.replay().events());
            } catch (Asciicast.TooLarge e) {
                throw ApiException.invalidField("request_seq", e.getMessage());
            }
            Long next = page.replay().nextAfterSeq();
            return next == null ? Uni.createFrom().item(cast.render()) : cast(id, next, cast);
        });
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
            if (!outcome.intact()) { // a page may skip missing seqs; it must not show a changed event
                throw ApiException.conflict("the recording of session " + id + " does not verify at seq "
                        + outcome.firstBrokenSeq() + ": " + outcome.problem() + "; POST /sessions/" + id
                        + "/verify reports the chain");
            }
            long last = index.links.isEmpty() ? afterSeq : index.links.get(index.links.size() - 1).seq();
            return new Page(index.session, new Replay(id, events, last < index.session.lastSeq ? last : null));
        });
    }

    /**
     * Recomputes the whole chain from S3 against every indexed link and the chain end, and says whether the recording
     * is complete: its session.ended stored, no seq missing, nothing parked. A session of which only parked events
     * exist is reported too.
     */
    public Uni<Verification> verify(UUID id) {
        return parked(id).chain(parked -> Panache.withSession(() -> SessionEntity.<SessionEntity>findById(id)).chain(session -> {
            if (session == null && parked.isEmpty()) {
                return Uni.createFrom().failure(notRecorded(id));
            }
            if (session == null) {
                return Uni.createFrom().item(Verification.of(id, null, 0, new ChainVerifier(id).outcome(), parked));
            }
            return index(id, 0, Integer.MAX_VALUE).emitOn(Infrastructure.getDefaultWorkerPool()).map(index -> {
                ChainVerifier verifier = new ChainVerifier(id);
                read(index, verifier, null);
                return Verification.of(id, index.session, index.links.size(),
                        verifier.finish(index.session.lastSeq, index.session.lastHash), parked);
            });
        }));
    }

    private static Uni<List<ParkedRunEntity>> parked(UUID id) {
        return Panache.withSession(() -> ParkedRunEntity.<ParkedRunEntity>list("sessionId = ?1 AND state <> ?2",
                Sort.by("id"), id, ParkedRunEntity.REPLAYED));
    }

    static ApiException notRecorded(UUID id) {
        return ApiException.notFound("session " + id + " is not recorded; GET /sessions lists the recorded ones");
    }

    private void read(Index index, ChainVerifier verifier, List<ObjectNode> events) {
        Map<Long, List<ChainVerifier.Link>> byChunk = new LinkedHashMap<>();
        index.links.forEach(link -> byChunk.computeIfAbsent(link.chunkSeq(), c -> new ArrayList<>()).add(link));
        for (var chunk : byChunk.entrySet()) {
            RecordingObjects.Chunk where = index.chunks.get(chunk.getKey());
            List<byte[]> lines;
            try {
                lines = where == null ? null : objects.lines(where);
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

    private record Index(SessionEntity session, List<ChainVerifier.Link> links, byte[] previousHash,
            Map<Long, RecordingObjects.Chunk> chunks) {
    }

    private static Uni<Index> index(UUID id, long afterSeq, int limit) {
        return Panache.withSession(() -> SessionEntity.<SessionEntity>findById(id)
                .onItem().ifNull().failWith(() -> notRecorded(id))
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
                            return new Index(session, links, previous, new HashMap<>());
                        })
                        .chain(index -> chunks(id, index))));
    }

    /** The chunk rows of the page's links (session_chunks, V5): where each run lies in S3. */
    private static Uni<Index> chunks(UUID id, Index index) {
        if (index.links.isEmpty()) {
            return Uni.createFrom().item(index);
        }
        // a range, not a list of the page's chunks: a statement's parameters do not grow with the recording
        long from = index.links.stream().mapToLong(ChainVerifier.Link::chunkSeq).min().orElseThrow();
        long to = index.links.stream().mapToLong(ChainVerifier.Link::chunkSeq).max().orElseThrow();
        return SessionEntity.getSession().chain(db -> db.createNativeQuery("""
                        SELECT first_seq, object_key, byte_offset, byte_length FROM session_chunks
                        WHERE session_id = :id AND first_seq BETWEEN :from AND :to""", Object[].class)
                .setParameter("id", id)
                .setParameter("from", from)
                .setParameter("to", to)
                .getResultList())
                .map(rows -> {
                    for (Object[] r : rows) {
                        long first = ((Number) r[0]).longValue();
                        index.chunks.put(first, new RecordingObjects.Chunk(first, (String) r[1], ((Number) r[2]).longValue(),
                                r[3] == null ? null : ((Number) r[3]).longValue()));
                    }
                    return index;
                });
    }
}
