package dev.portcullis.admin.connection;

import dev.portcullis.admin.security.Actor;
import dev.portcullis.admin.security.AdminAction;
import dev.portcullis.admin.security.EndpointAccess;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/** Registered connections: the targets the gateway opens on behalf of an identity. */
@Path("/connections")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "connections")
public class ConnectionResource {
    private static final String BODY_REQUIRED = "a JSON object with the connection's fields is required";

    private final ConnectionService connections;
    private final ConnectionProbe probe;
    private final PasswordRotation rotation;
    private final SecurityIdentity identity;

    ConnectionResource(ConnectionService connections, ConnectionProbe probe, PasswordRotation rotation,
            SecurityIdentity identity) {
        this.connections = connections;
        this.probe = probe;
        this.rotation = rotation;
        this.identity = identity;
    }

    @GET
    @AdminAction("connections.read")
    @Operation(summary = "List connections, by name")
    public Uni<List<ConnectionView>> list() {
        return connections.list();
    }

    @GET
    @Path("{name}")
    @AdminAction("connections.read")
    @Operation(summary = "Get one connection",
            description = "With its ETag, which PUT and password rotation require in If-Match.")
    public Uni<RestResponse<ConnectionView>> get(@RestPath String name) {
        return connections.get(name).map(found -> tagged(RestResponse.ResponseBuilder.ok(found.connection()), found));
    }

    @POST
    @AdminAction("connections.write")
    @Operation(summary = "Register a connection", description = "201 with the connection; 409 if the name is taken.")
    public Uni<RestResponse<ConnectionView>> create(@NotNull(message = BODY_REQUIRED) @Valid ConnectionRequest request) {
        return connections.create(request, Actor.of(identity)).map(created -> tagged(RestResponse.ResponseBuilder
                .<ConnectionView>created(URI.create("/connections/" + created.connection().name()))
                .entity(created.connection()), created));
    }

    @PUT
    @Path("{name}")
    @AdminAction("connections.write")
    @Operation(summary = "Replace a connection's settings",
            description = "If-Match with the connection's ETag is required: 428 without it, 412 if the connection"
                    + " changed since (GET it again). Omit password to keep the stored one; a new password is used by"
                    + " new sessions, live ones finish on theirs.")
    public Uni<RestResponse<ConnectionView>> update(@RestPath String name,
            @Parameter(description = "The ETag of the connection as last read, or *.", required = true)
            @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch,
            @NotNull(message = BODY_REQUIRED) @Valid ConnectionRequest request) {
        return connections.update(name, request, ifMatch, Actor.of(identity))
                .map(updated -> tagged(RestResponse.ResponseBuilder.ok(updated.connection()), updated));
    }

    @DELETE
    @Path("{name}")
    @AdminAction("connections.write")
    @Operation(summary = "Remove a connection", description = "If-Match, when given, must name its current ETag (else 412).")
    public Uni<Void> delete(@RestPath String name,
            @Parameter(description = "The ETag of the connection as last read.") @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch) {
        return connections.delete(name, ifMatch, Actor.of(identity));
    }

    @POST
    @Path("{name}/test")
    @AdminAction("connections.test")
    @Operation(summary = "Log in to the target with the stored settings and password, and say whether that worked",
            description = "200 with ok=true and the server's version, or ok=false and what failed (the host unknown or"
                    + " unreachable, TLS, the login refused, no answer within 10 s). The password is never returned."
                    + " The login is made from the admin API, with the settings the gateway uses. Audited.")
    public Uni<ConnectionProbe.Result> test(@RestPath String name, @Context HttpServerRequest http) {
        return probe.probe(name, Actor.of(identity), EndpointAccess.source(http));
    }

    @POST
    @Path("{name}/rotate")
    @AdminAction("connections.write")
    @Operation(summary = "Rotate the password on the target and in Portcullis together",
            description = "Body {} generates a random password, {\"password\": \"...\"} sets that one. Logged in with"
                    + " the current password, Portcullis changes the role's own password on the target (ALTER ROLE"
                    + " CURRENT_USER with a SCRAM verifier), stores the new one sealed, then commits the target's change."
                    + " Live sessions continue; new sessions use the new password. If-Match with the connection's ETag is"
                    + " required (428 without, 412 if stale). 502 if the target refused: nothing changed.")
    public Uni<RestResponse<ConnectionView>> rotate(@RestPath String name,
            @Parameter(description = "The ETag of the connection as last read, or *.", required = true)
            @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch,
            @NotNull(message = "a JSON object is required: {} to generate a password") @Valid RotationRequest request,
            @Context HttpServerRequest http) {
        return rotation.rotate(name, request.password(), ifMatch, Actor.of(identity), EndpointAccess.source(http))
                .map(rotated -> tagged(RestResponse.ResponseBuilder.ok(rotated.connection()), rotated));
    }

    private static RestResponse<ConnectionView> tagged(RestResponse.ResponseBuilder<ConnectionView> response,
            ConnectionService.Versioned connection) {
        return response.header(HttpHeaders.ETAG, connection.etag()).build();
    }
}
