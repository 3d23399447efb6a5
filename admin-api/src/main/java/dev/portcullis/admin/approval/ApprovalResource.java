package dev.portcullis.admin.approval;

import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.PathIds;
import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;

/**
 * Requests the gateway holds for just-in-time approval: list them, read one, approve or deny it. Members of the
 * approver group may read and vote; whether their vote counts is OPA's decision ({@code portcullis/approve}).
 */
@Path("/approvals")
@Authenticated
@AdminAction("approvals.read")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "approvals", description = "Requests the gateway holds for approval, and the votes on them.")
public class ApprovalResource {
    private final ApprovalService approvals;
    private final VoteService votes;
    private final SecurityIdentity identity;

    ApprovalResource(ApprovalService approvals, VoteService votes, SecurityIdentity identity) {
        this.approvals = approvals;
        this.votes = votes;
        this.identity = identity;
    }

    @GET
    @Operation(operationId = "listApprovals", summary = "Held requests, oldest first, in pages",
            description = "Pass the answer's next as cursor for the next page (null on the last). A query parameter"
                    + " not listed here is a 400 that names it.")
    @Parameter(name = "state", in = ParameterIn.QUERY, description = "Only requests in this state.",
            schema = @Schema(enumeration = {"pending", "approved", "denied", "expired", "withdrawn", "abandoned"}))
    @Parameter(name = "identity", in = ParameterIn.QUERY, description = "The requester's subject or name.")
    @Parameter(name = "connection", in = ParameterIn.QUERY, description = "The connection's name.")
    @Parameter(name = "protocol", in = ParameterIn.QUERY, description = "postgres, ...")
    @Parameter(name = "from", in = ParameterIn.QUERY, description = "Created at or after (RFC 3339).")
    @Parameter(name = "to", in = ParameterIn.QUERY, description = "Created before (RFC 3339).")
    @Parameter(name = "limit", in = ParameterIn.QUERY, description = "Requests per page: 1 to 500, default 50.")
    @Parameter(name = "cursor", in = ParameterIn.QUERY, description = "The previous page's next.")
    public Uni<ApprovalService.Page> list(@Context UriInfo uri) {
        QueryParameters query = QueryParameters.of(uri, "state", "identity", "connection", "protocol", "from", "to",
                "limit", "cursor");
        return approvals.list(new ApprovalService.Filter(query.oneOf("state", ApprovalService.STATES),
                query.text("identity"), query.text("connection"), query.text("protocol"), query.time("from"),
                query.time("to"), Cursor.of(query), query.limit("limit", 50, 500)));
    }

    @GET
    @Path("{id}")
    @Operation(operationId = "getApproval", summary = "One held request: what, who asked, its votes, its state and outcome, its webhook deliveries")
    @APIResponse(responseCode = "200", description = "The request, its votes, state, outcome and webhook deliveries",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ApprovalDetail.class)))
    @APIResponse(responseCode = "404", description = "No approval request of this id")
    public Uni<ApprovalDetail> get(@RestPath String id) {
        return approvals.get(requestId(id));
    }

    @POST
    @Path("{id}/approve")
    @AdminAction("approvals.vote")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(operationId = "approve", summary = "Approve a pending request ({\"comment\": \"...\"}, the comment optional)",
            description = "200 with the request after the vote: still pending until min_approvals distinct approvers"
                    + " approved it, then approved (and its grant created). 403 if the approve policy refuses the vote,"
                    + " 409 if the request is not pending (an expired one is marked so) or you already voted, 503 if"
                    + " the policy engine cannot decide. Every vote, refused ones too, is audited.")
    @APIResponse(responseCode = "200", description = "The request after the vote",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ApprovalDetail.class)))
    @APIResponse(responseCode = "404", description = "No approval request of this id")
    @APIResponse(responseCode = "409", description = "The request is not pending, or you already voted")
    public Uni<ApprovalDetail> approve(@RestPath String id, @Valid VoteRequest body, @Context HttpServerRequest http) {
        return vote(id, ApprovalVoteEntity.APPROVE, body == null ? null : body.text(), http);
    }

    @POST
    @Path("{id}/deny")
    @AdminAction("approvals.vote")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(operationId = "deny", summary = "Deny a pending request ({\"comment\": \"why\"}, the comment required); one denial ends it",
            description = "200 with the request, now denied; otherwise as approve.")
    @APIResponse(responseCode = "200", description = "The request, now denied",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ApprovalDetail.class)))
    @APIResponse(responseCode = "404", description = "No approval request of this id")
    @APIResponse(responseCode = "409", description = "The request is not pending, or you already voted")
    public Uni<ApprovalDetail> deny(@RestPath String id, @Valid VoteRequest body, @Context HttpServerRequest http) {
        String comment = body == null ? null : body.text();
        if (comment == null) {
            throw ApiException.invalidField("comment", "is required to deny: say why, for the requester (at most "
                    + VoteRequest.MAX_COMMENT + " characters)");
        }
        return vote(id, ApprovalVoteEntity.DENY, comment, http);
    }

    private Uni<ApprovalDetail> vote(String id, String verdict, String comment, HttpServerRequest http) {
        UUID requestId = requestId(id);
        String source = http.remoteAddress() == null ? null : http.remoteAddress().hostAddress();
        return votes.vote(requestId, new VoteService.Ballot(verdict, comment, Voter.of(identity), source))
                .map(outcome -> {
                    if (outcome instanceof VoteService.Refused refused) {
                        throw refused.error(); // after the commit: the audit of the refusal stays
                    }
                    return ((VoteService.Recorded) outcome).approval();
                });
    }

    private static UUID requestId(String id) {
        return PathIds.uuid(id, "an approval request's id, a UUID (GET /approvals lists them)");
    }
}
