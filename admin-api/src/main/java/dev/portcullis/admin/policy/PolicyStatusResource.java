package dev.portcullis.admin.policy;

import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.gateway.Heartbeats;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The policy engine of every gateway replica, as the replica last reported it. */
@Path("/policy")
@Authenticated
@AdminAction("policy.read")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "policy", description = "Per gateway replica: the OPA bundle revision in force, since when, OPA's health and the decision counts.")
public class PolicyStatusResource {
    private final Heartbeats heartbeats;

    PolicyStatusResource(Heartbeats heartbeats) {
        this.heartbeats = heartbeats;
    }

    @GET
    @Operation(operationId = "getPolicyStatus", summary = "Per gateway replica: its OPA bundle revision, since when, OPA's"
            + " health, and its decisions since start by outcome",
            description = "From the replicas' heartbeats (every few seconds). The revision is the bundle manifest's (set by"
                    + " policies-rego/check --stamp), so replicas that run the same policies show the same one; stale: the"
                    + " replica stopped reporting.")
    public Uni<List<Heartbeats.ReplicaPolicy>> status(@Context UriInfo uri) {
        QueryParameters.of(uri);
        return heartbeats.policies();
    }
}
