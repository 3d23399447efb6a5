package dev.portcullis.admin.session;

import dev.portcullis.admin.error.ApiException;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

/** Recorded sessions: list, replay (JSON and transcript), and verification of the hash chain. */
@Path("/sessions")
@RolesAllowed("${portcullis.admin-group}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "sessions")
public class SessionResource {
    static final int MAX_PAGE = 10_000;

    private final RecordingService recordings;

    SessionResource(RecordingService recordings) {
        this.recordings = recordings;
    }

    @GET
    @Operation(summary = "Recorded sessions, most recently started first")
    public Uni<List<SessionView>> list(@RestQuery Integer limit) {
        return recordings.recent(limit("limit", limit, 50, 500));
    }

    @GET
    @Path("{id}/events")
    @Operation(summary = "A session's events in order, exactly as recorded, each verified against the hash chain",
            description = "Pages of up to limit events (default 1000) after after_seq; 409 if the recording does not verify.")
    public Uni<Replay> events(@RestPath String id, @RestQuery("after_seq") Long afterSeq, @RestQuery Integer limit) {
        return recordings.replay(sessionId(id), afterSeq(afterSeq), limit("limit", limit, 1000, MAX_PAGE));
    }

    @GET
    @Path("{id}/transcript")
    @Produces({MediaType.TEXT_PLAIN, Asciicast.MEDIA_TYPE})
    @Operation(summary = "A session as readable text, or its terminal streams as an asciicast v2 recording",
            description = "text/plain (the default): time, identity, statement, decision, rows, masked columns; after_seq and"
                    + " limit page it. Accept: application/x-asciicast: the terminal streams (SSH shells and execs, kubectl"
                    + " exec), for asciinema play; request_seq: only the streams of that request; 400 past 64 MiB of"
                    + " streams. 409 if the recording does not verify.")
    public Uni<Response> transcript(@RestPath String id, @RestQuery("after_seq") Long afterSeq, @RestQuery Integer limit,
            @RestQuery("request_seq") Long requestSeq, HttpHeaders headers) {
        if (!wantsAsciicast(headers)) {
            return recordings.transcript(sessionId(id), afterSeq(afterSeq), limit("limit", limit, 1000, MAX_PAGE))
                    .map(text -> Response.ok(text, MediaType.TEXT_PLAIN_TYPE.withCharset("UTF-8")).build());
        }
        if (requestSeq != null && requestSeq < 1) {
            throw ApiException.invalidField("request_seq", "must be the seq of a request event, 1 or more");
        }
        return recordings.asciicast(sessionId(id), requestSeq).map(cast -> Response.ok(cast, Asciicast.MEDIA_TYPE).build());
    }

    /** Whether the caller prefers the asciicast to text: the first of the two its Accept header names, by quality. */
    private static boolean wantsAsciicast(HttpHeaders headers) {
        for (MediaType type : headers.getAcceptableMediaTypes()) {
            if (type.isCompatible(MediaType.TEXT_PLAIN_TYPE)) {
                return false;
            }
            if (type.toString().startsWith(Asciicast.MEDIA_TYPE)) {
                return true;
            }
        }
        return false;
    }

    @POST
    @Path("{id}/verify")
    @Operation(summary = "Recompute the session's hash chain from S3 against PostgreSQL",
            description = "200 with ok=true, or ok=false and the first broken seq and what is wrong there.")
    public Uni<Verification> verify(@RestPath String id) {
        return recordings.verify(sessionId(id));
    }

    static UUID sessionId(String id) {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // below
        }
        throw ApiException.invalidField("id", "must be a session id (a UUID such as 0b7c1d5e-8a4f-4c5e-9d2a-6f1e3b9a7c40)");
    }

    private static long afterSeq(Long afterSeq) {
        if (afterSeq != null && afterSeq < 0) {
            throw ApiException.invalidField("after_seq", "must be 0 or more");
        }
        return afterSeq == null ? 0 : afterSeq;
    }

    static int limit(String name, Integer value, int fallback, int max) {
        if (value == null) {
            return fallback;
        }
        if (value < 1 || value > max) {
            throw ApiException.invalidField(name, "must be between 1 and " + max);
        }
        return value;
    }
}
