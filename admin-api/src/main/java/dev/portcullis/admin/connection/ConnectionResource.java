package dev.portcullis.admin.connection;

import dev.portcullis.admin.security.Actor;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
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
    private final SecurityIdentity identity;

    ConnectionResource(ConnectionService connections, SecurityIdentity identity) {
        this.connections = connections;
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
    @Operation(summary = "Get one connection")
    public Uni<ConnectionView> get(@RestPath String name) {
        return connections.get(name);
    }

    @POST
    @AdminAction("connections.write")
    @Operation(summary = "Register a connection", description = "201 with the connection; 409 if the name is taken.")
    public Uni<RestResponse<ConnectionView>> create(@NotNull(message = BODY_REQUIRED) @Valid ConnectionRequest request) {
        return connections.create(request, Actor.of(identity))
                .map(created -> RestResponse.ResponseBuilder
                        .<ConnectionView>created(URI.create("/connections/" + created.name()))
                        .entity(created)
                        .build());
    }

    @PUT
    @Path("{name}")
    @AdminAction("connections.write")
    @Operation(summary = "Replace a connection's settings", description = "Omit password to keep the stored one.")
    public Uni<ConnectionView> update(@RestPath String name, @NotNull(message = BODY_REQUIRED) @Valid ConnectionRequest request) {
        return connections.update(name, request, Actor.of(identity));
    }

    @DELETE
    @Path("{name}")
    @AdminAction("connections.write")
    @Operation(summary = "Remove a connection")
    public Uni<Void> delete(@RestPath String name) {
        return connections.delete(name, Actor.of(identity));
    }
}
