package dev.portcullis.admin.grant;

import dev.portcullis.admin.PathIds;
import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.security.Actor;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
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

/** Time-boxed grants created by approvals: list them, revoke one. */
@Path("/grants")
@Authenticated
@AdminAction("grants.read")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "grants", description = "Time-boxed grants that approvals created: list them, revoke one.")
public class GrantResource {
    private final GrantService grants;
    private final SecurityIdentity identity;

    GrantResource(GrantService grants, SecurityIdentity identity) {
        this.grants = grants;
        this.identity = identity;
    }

    @GET
    @Operation(operationId = "listGrants", summary = "Grants, newest first", description = "A query parameter not listed here is a 400 that names it.")
    @Parameter(name = "identity", in = ParameterIn.QUERY, description = "The grantee's subject.")
    @Parameter(name = "connection", in = ParameterIn.QUERY, description = "The connection's name.")
    @Parameter(name = "active", in = ParameterIn.QUERY, description = "true: not revoked and not expired; false: the others.",
            schema = @Schema(type = SchemaType.BOOLEAN))
    @Parameter(name = "limit", in = ParameterIn.QUERY, description = "At most this many: 1 to 1000, default 100.")
    public Uni<List<GrantView>> list(@Context UriInfo uri) {
        QueryParameters query = QueryParameters.of(uri, "identity", "connection", "active", "limit");
        return grants.list(query.text("identity"), query.text("connection"), query.bool("active"),
                query.limit("limit", 100, 1000));
    }

    @DELETE
    @Path("{id}")
    @AdminAction("grants.revoke")
    @Operation(operationId = "revokeGrant", summary = "Revoke a grant",
            description = "200 with the grant, now revoked; every gateway stops counting it within a second. 404 if"
                    + " unknown, 409 if already revoked. Audited.")
    @APIResponse(responseCode = "200", description = "The grant, now revoked",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = GrantView.class)))
    @APIResponse(responseCode = "404", description = "No grant of this id")
    @APIResponse(responseCode = "409", description = "The grant was revoked already")
    public Uni<GrantView> revoke(@RestPath String id, @Context HttpServerRequest http) {
        return grants.revoke(grantId(id), Actor.of(identity),
                http.remoteAddress() == null ? null : http.remoteAddress().hostAddress());
    }

    private static UUID grantId(String id) {
        return PathIds.uuid(id, "a grant's id, a UUID (GET /grants lists them)");
    }
}
