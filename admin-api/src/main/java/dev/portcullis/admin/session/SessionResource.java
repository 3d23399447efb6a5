package dev.portcullis.admin.session;

import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.audit.AuditLog;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.gateway.Heartbeats;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.admin.security.AdminAction;
import dev.portcullis.admin.security.EndpointAccess;
import dev.portcullis.contract.events.Asciicast;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/** Recorded sessions: list, replay (JSON and transcript), and verification of the hash chain. */
@Path("/sessions")
@Authenticated
@AdminAction("recordings.read")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "sessions", description = "Recorded and live sessions: list, read, replay, verify, kill.")
public class SessionResource {
    static final int MAX_PAGE = 10_000;

    private final RecordingService recordings;
    private final SessionService sessions;
    private final Heartbeats heartbeats;
    private final KillService kills;
    private final SecurityIdentity identity;
    private final AuditLog audit;

    SessionResource(RecordingService recordings, SessionService sessions, Heartbeats heartbeats, KillService kills,
            SecurityIdentity identity, AuditLog audit) {
        this.audit = audit;
        this.recordings = recordings;
        this.sessions = sessions;
        this.heartbeats = heartbeats;
        this.kills = kills;
        this.identity = identity;
    }

    @GET
    @Path("live")
    @AdminAction("sessions.read")
    @Operation(operationId = "listLiveSessions", summary = "The live sessions on every gateway replica, most recently started first",
            description = "From the replicas' heartbeats (every few seconds): a session that just started may be missing"
                    + " for a beat, and the sessions of a replica that stopped beating are not listed.")
    public Uni<List<Heartbeats.LiveSession>> live(@Context UriInfo uri) {
        QueryParameters.of(uri);
        return heartbeats.liveSessions();
    }

    @POST
    @Path("{id}/kill")
    @AdminAction("sessions.kill")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(operationId = "killSession", summary = "End a live session ({\"reason\": \"...\"}, required)",
            description = "202: the replica that holds the session was asked to end it (through PostgreSQL NOTIFY) and"
                    + " does within a moment, for any protocol; the client is told an administrator ended it. 409 if no"
                    + " replica reports the session live. Audited with the reason.")
    @APIResponse(responseCode = "202", description = "The holding replica was asked to end the session",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = KillService.Requested.class)))
    @APIResponse(responseCode = "409", description = "No replica reports the session live")
    public Uni<RestResponse<KillService.Requested>> kill(@RestPath String id,
            @NotNull(message = "a JSON object with the reason is required") @Valid KillRequest body,
            @Context HttpServerRequest http) {
        return kills.kill(sessionId(id), body.reason().strip(), Actor.of(identity), EndpointAccess.source(http))
                .map(RestResponse::accepted);
    }

    @GET
    @AdminAction("sessions.read")
    @Operation(operationId = "listSessions", summary = "Recorded sessions, most recently started first, in pages",
            description = "Pass the answer's next as cursor for the next page (null on the last); a session that starts"
                    + " meanwhile never shifts a page. A query parameter not listed here is a 400 that names it.")
    @Parameter(name = "identity", in = ParameterIn.QUERY, description = "The identity's subject or name.")
    @Parameter(name = "connection", in = ParameterIn.QUERY, description = "The connection's name.")
    @Parameter(name = "protocol", in = ParameterIn.QUERY, description = "The connection type: postgres, ssh, kubernetes, ...")
    @Parameter(name = "gateway", in = ParameterIn.QUERY, description = "The gateway replica that held the session.")
    @Parameter(name = "state", in = ParameterIn.QUERY, description = "live: not ended yet; ended.",
            schema = @Schema(enumeration = {"live", "ended"}))
    @Parameter(name = "from", in = ParameterIn.QUERY, description = "Started at or after (RFC 3339).")
    @Parameter(name = "to", in = ParameterIn.QUERY, description = "Started before (RFC 3339).")
    @Parameter(name = "had_denials", in = ParameterIn.QUERY, description = "true: at least one request was denied.",
            schema = @Schema(type = SchemaType.BOOLEAN))
    @Parameter(name = "limit", in = ParameterIn.QUERY, description = "Sessions per page: 1 to 500, default 50.")
    @Parameter(name = "cursor", in = ParameterIn.QUERY, description = "The previous page's next.")
    public Uni<SessionService.Page> list(@Context UriInfo uri) {
        QueryParameters query = QueryParameters.of(uri, "identity", "connection", "protocol", "gateway", "state", "from",
                "to", "had_denials", "limit", "cursor");
        String state = query.oneOf("state", Set.of("live", "ended"));
        return sessions.list(new SessionService.Filter(query.text("identity"), query.text("connection"),
                query.text("protocol"), query.text("gateway"), state == null ? null : state.equals("live"),
                query.time("from"), query.time("to"), query.bool("had_denials"),
                Cursor.of(query), query.limit("limit", 50, 500)));
    }

    @GET
    @Path("{id}")
    @AdminAction("sessions.read")
    @Operation(operationId = "getSession", summary = "One recorded session")
    @APIResponse(responseCode = "200", description = "The session",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = SessionView.class)))
    @APIResponse(responseCode = "404", description = "The session is not recorded")
    public Uni<SessionView> get(@RestPath String id) {
        return sessions.get(sessionId(id));
    }

    @GET
    @Path("{id}/events")
    @Operation(operationId = "getSessionEvents", summary = "A session's events in order, exactly as recorded, each verified against the hash chain",
            description = "Pages of up to limit events (default 1000) after after_seq; 409 if the recording does not verify.")
    @APIResponse(responseCode = "200", description = "A page of events",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Replay.class)))
    @APIResponse(responseCode = "404", description = "The session is not recorded")
    @APIResponse(responseCode = "409", description = "The recording does not verify")
    public Uni<Replay> events(@RestPath String id, @Context UriInfo uri, @Context HttpServerRequest http) {
        QueryParameters query = QueryParameters.of(uri, "after_seq", "limit");
        UUID session = sessionId(id);
        long afterSeq = afterSeq(query);
        return audited(session, "events", afterSeq, http,
                recordings.replay(session, afterSeq, query.limit("limit", 1000, MAX_PAGE)));
    }

    @GET
    @Path("{id}/transcript")
    @Produces({MediaType.TEXT_PLAIN, Asciicast.MEDIA_TYPE})
    @Operation(operationId = "getSessionTranscript", summary = "A session as readable text, or its terminal streams as an asciicast v2 recording",
            description = "text/plain (the default): time, identity, statement, decision, rows, masked columns; after_seq and"
                    + " limit page it. Accept: application/x-asciicast: the terminal streams (SSH shells and execs, kubectl"
                    + " exec), for asciinema play; request_seq: only the streams of that request; 400 past 64 MiB of"
                    + " streams. 409 if the recording does not verify.")
    @APIResponse(responseCode = "200", description = "The transcript (text/plain) or the asciicast v2 recording",
            content = {@Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(type = SchemaType.STRING)),
                    @Content(mediaType = Asciicast.MEDIA_TYPE, schema = @Schema(type = SchemaType.STRING))})
    @APIResponse(responseCode = "404", description = "The session is not recorded")
    @APIResponse(responseCode = "409", description = "The recording does not verify")
    public Uni<Response> transcript(@RestPath String id, @Context UriInfo uri, @Context HttpHeaders headers,
            @Context HttpServerRequest http) {
        QueryParameters query = QueryParameters.of(uri, "after_seq", "limit", "request_seq");
        UUID session = sessionId(id);
        if (!wantsAsciicast(headers)) {
            long afterSeq = afterSeq(query);
            return audited(session, "transcript", afterSeq, http,
                    recordings.transcript(session, afterSeq, query.limit("limit", 1000, MAX_PAGE))
                            .map(text -> Response.ok(text, MediaType.TEXT_PLAIN_TYPE.withCharset("UTF-8")).build()));
        }
        Long requestSeq = query.number("request_seq", 1, "the seq of a request event");
        return audited(session, "asciicast", requestSeq == null ? 0 : requestSeq, http,
                recordings.asciicast(session, requestSeq).map(cast -> Response.ok(cast, Asciicast.MEDIA_TYPE).build()));
    }

    /**
     * The read, then its audit entry ({@code recording.read}: who read which session, what, from where). If the entry
     * cannot be written the read fails: a recording is never shown unaudited.
     */
    private <T> Uni<T> audited(UUID session, String what, long fromSeq, HttpServerRequest http, Uni<T> read) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("outcome", "read");
        details.put("what", what);
        details.put("from_seq", fromSeq);
        details.put("source", EndpointAccess.source(http));
        Actor reader = Actor.of(identity);
        return read.call(() -> audit.read(reader, "recording.read", "session/" + session, details));
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
    @Operation(operationId = "verifySession", summary = "Recompute the session's hash chain from S3 against PostgreSQL",
            description = "200 with ok=true, or ok=false and the first broken seq and what is wrong there.")
    @APIResponse(responseCode = "200", description = "Whether the recording verifies, and where it breaks if not",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Verification.class)))
    @APIResponse(responseCode = "404", description = "The session is not recorded")
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

    private static long afterSeq(QueryParameters query) {
        Long afterSeq = query.number("after_seq", 0, "the seq of the last event already read");
        return afterSeq == null ? 0 : afterSeq;
    }
}
