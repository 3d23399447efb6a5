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
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/** Registered connections: the targets the gateway opens on behalf of an identity. */
@Path("/connections")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "connections", description = "The targets the gateway opens for an identity: postgres, kubernetes or ssh. Passwords and"
        + " credentials are write-only; changes need the ETag.")
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
    @Operation(operationId = "listConnections", summary = "List connections, by name")
    public Uni<List<ConnectionView>> list() {
        return connections.list();
    }

    @GET
    @Path("{name}")
    @AdminAction("connections.read")
    @Operation(operationId = "getConnection", summary = "Get one connection",
            description = "With its ETag, which PUT and password rotation require in If-Match.")
    @APIResponse(responseCode = "200", description = "The connection; its ETag in the ETag header",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ConnectionView.class)))
    @APIResponse(responseCode = "404", description = "No connection of this name")
    public Uni<RestResponse<ConnectionView>> get(@RestPath String name) {
        return connections.get(name).map(found -> tagged(RestResponse.ResponseBuilder.ok(found.connection()), found));
    }

    @POST
    @AdminAction("connections.write")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(operationId = "createConnection", summary = "Register a connection",
            description = "201 with the connection; 409 if the name is taken. Each type has its own required and forbidden"
                    + " fields (see ConnectionRequest): a field of another type, or a missing one, is a 400 naming it.")
    @APIResponse(responseCode = "400", description = "A field is invalid, missing for this type, or belongs to another type")
    @APIResponse(responseCode = "201", description = "The connection, registered; its ETag in the ETag header, its URL in Location",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ConnectionView.class)))
    @APIResponse(responseCode = "409", description = "A connection of this name exists")
    public Uni<RestResponse<ConnectionView>> create(@NotNull(message = BODY_REQUIRED) @Valid ConnectionRequest request) {
        return connections.create(request, Actor.of(identity)).map(created -> tagged(RestResponse.ResponseBuilder
                .<ConnectionView>created(URI.create("/connections/" + created.connection().name()))
                .entity(created.connection()), created));
    }

    @PUT
    @Path("{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    @AdminAction("connections.write")
    @Operation(operationId = "updateConnection", summary = "Replace a connection's settings",
            description = "If-Match with the connection's ETag is required: 428 without it, 412 if the connection"
                    + " changed since (GET it again). Omit password to keep the stored one; a new password is used by"
                    + " new sessions, live ones finish on theirs.")
    @APIResponse(responseCode = "200", description = "The connection, changed; its new ETag in the ETag header",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ConnectionView.class)))
    @APIResponse(responseCode = "404", description = "No connection of this name")
    @APIResponse(responseCode = "412", description = "The connection changed since the ETag in If-Match was read")
    @APIResponse(responseCode = "428", description = "If-Match is missing")
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
    @Operation(operationId = "deleteConnection", summary = "Remove a connection", description = "If-Match, when given, must name its current ETag (else 412).")
    @APIResponse(responseCode = "204", description = "The connection is removed")
    @APIResponse(responseCode = "404", description = "No connection of this name")
    @APIResponse(responseCode = "412", description = "The connection changed since the ETag in If-Match was read")
    public Uni<Void> delete(@RestPath String name,
            @Parameter(description = "The ETag of the connection as last read.") @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch) {
        return connections.delete(name, ifMatch, Actor.of(identity));
    }

    @POST
    @Path("{name}/test")
    @AdminAction("connections.test")
    @Operation(operationId = "testConnection", summary = "Reach the target with the stored settings and secret, as the gateway would, and say whether that worked",
            description = "postgres: log in with the password. kubernetes: call the API server with the credential,"
                    + " verifying its CA, and ask its version, who the credential is (SelfSubjectReview) and, when the"
                    + " connection impersonates, whether it may. ssh: connect, accept only the registered host key, and"
                    + " authenticate with the private key; no channel is opened."
                    + " 200 with ok=true, the server's version and the identity the target sees, or ok=false and what"
                    + " failed (the host unknown or unreachable, TLS or the CA, a changed host key, the credential refused,"
                    + " no answer within 10 s). No secret is ever returned or logged. The login is made from the admin"
                    + " API. Audited.")
    @APIResponse(responseCode = "200", description = "Whether the login worked (ok), and what failed if it did not",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ConnectionProbe.Result.class)))
    @APIResponse(responseCode = "404", description = "No connection of this name")
    @APIResponse(responseCode = "409", description = "No stored password or credential, or one this admin API's key cannot open")
    public Uni<ConnectionProbe.Result> test(@RestPath String name, @Context HttpServerRequest http) {
        return probe.probe(name, Actor.of(identity), EndpointAccess.source(http));
    }

    @POST
    @Path("{name}/rotate")
    @Consumes(MediaType.APPLICATION_JSON)
    @AdminAction("connections.write")
    @Operation(operationId = "rotateConnectionPassword", summary = "Rotate the password on the target and in Portcullis together",
            description = "postgres connections only (409 otherwise: a kubernetes or ssh credential is rotated where it is issued)."
                    + " Body {} generates a random password, {\"password\": \"...\"} sets that one. Logged in with"
                    + " the current password, Portcullis changes the role's own password on the target (ALTER ROLE"
                    + " CURRENT_USER with a SCRAM verifier), stores the new one sealed, then commits the target's change."
                    + " Live sessions continue; new sessions use the new password. If-Match with the connection's ETag is"
                    + " required (428 without, 412 if stale). 502 if the target refused: nothing changed.")
    @APIResponse(responseCode = "200", description = "The connection, with the new password stored; its new ETag in the ETag header",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ConnectionView.class)))
    @APIResponse(responseCode = "404", description = "No connection of this name")
    @APIResponse(responseCode = "409", description = "No stored password, or not a postgres connection")
    @APIResponse(responseCode = "412", description = "The connection changed since the ETag in If-Match was read")
    @APIResponse(responseCode = "428", description = "If-Match is missing")
    @APIResponse(responseCode = "502", description = "The target refused the login or the new password: nothing changed")
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
