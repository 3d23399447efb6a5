package dev.portcullis.admin.session;

import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * The recorder's dead-letter store: runs of events it could not store (unreadable, refused for their content, or
 * queued behind such a run of the same session). Never dropped; replayed on request once the cause is fixed.
 */
@Path("/recordings/parked")
@Authenticated
@AdminAction("recordings.parked.replay")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "recordings", description = "Runs of events the recorder parked (could not store), and their replay.")
public class ParkedRunResource {
    private final ParkedRunService parked;
    private final SecurityIdentity identity;

    ParkedRunResource(ParkedRunService parked, SecurityIdentity identity) {
        this.parked = parked;
        this.identity = identity;
    }

    @GET
    @AdminAction("recordings.parked.read")
    @Operation(operationId = "listParkedRuns", summary = "Parked runs of events, oldest first",
            description = "state=open (default: not replayed yet) or all; session_id narrows to one session.")
    public Uni<List<ParkedRunView>> list(@Context UriInfo uri) {
        QueryParameters query = QueryParameters.of(uri, "state", "session_id", "limit");
        String state = query.oneOf("state", Set.of("open", "all"));
        String sessionId = query.text("session_id");
        return parked.list(!"all".equals(state), sessionId == null ? null : SessionResource.sessionId(sessionId),
                query.limit("limit", 100, 1000));
    }

    @POST
    @Path("{id}/replay")
    @Operation(operationId = "replayParkedRun", summary = "Ask the recorder to store a parked run again (it does within seconds)",
            description = "202 with the run, now replay_requested; 404 if unknown, 409 if already replayed. The run is"
                    + " stored after the runs of its session parked before it; if it still fails it stays parked with"
                    + " the new error.")
    @APIResponse(responseCode = "202", description = "The run, now replay_requested",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ParkedRunView.class)))
    @APIResponse(responseCode = "404", description = "No parked run of this id")
    @APIResponse(responseCode = "409", description = "The run was replayed already")
    public Uni<RestResponse<ParkedRunView>> replay(@RestPath String id) {
        return parked.requestReplay(parkedId(id), Actor.of(identity)).map(RestResponse::accepted);
    }

    @POST
    @Path("replay")
    @Operation(operationId = "replayAllParkedRuns", summary = "Ask the recorder to store every parked run again, in order")
    @APIResponse(responseCode = "202", description = "How many runs the recorder was asked to store again",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ParkedRunService.Requested.class)))
    public Uni<RestResponse<ParkedRunService.Requested>> replayAll() {
        return parked.requestReplayOfAll(Actor.of(identity)).map(RestResponse::accepted);
    }

    private static long parkedId(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw ApiException.invalidField("id", "must be a parked run's id, a number (GET /recordings/parked lists them)");
        }
    }
}
