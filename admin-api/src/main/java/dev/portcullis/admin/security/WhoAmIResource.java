package dev.portcullis.admin.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.approval.Voter;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.policy.PolicyClient;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Who the caller is, as the admin API sees them: the token's identity and groups, and the roles the policy gives them. */
@Path("/whoami")
@Authenticated
@AdminAction("whoami")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "identity", description = "Who the caller is, and which admin roles their groups give.")
public class WhoAmIResource {
    private final PolicyClient policy;
    private final EndpointAccess access;

    WhoAmIResource(PolicyClient policy, EndpointAccess access) {
        this.policy = policy;
        this.access = access;
    }

    /** @param roles the admin roles the policy ({@code portcullis/admin}) gives the caller's groups */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record WhoAmI(String subject, String name, String kind, String clientId, List<String> groups, List<String> roles) {
    }

    @GET
    @Operation(operationId = "whoami", summary = "The caller: subject, name, groups, and the admin roles they hold",
            description = "Any valid token may ask. 503 if the policy engine cannot say which roles the groups give.")
    public Uni<WhoAmI> whoami() {
        return access.caller().chain(caller -> {
            Voter identity = Voter.of(caller);
            return policy.evaluate("portcullis/admin/roles", new EndpointAccess.Input(2, identity, "whoami", null))
                    .map(answer -> {
                        if (answer.problem() != null || !answer.body().isArray()) {
                            throw new ApiException(503, "the policy engine cannot say which roles your groups give: "
                                    + (answer.problem() != null ? answer.problem() : "its answer is not a list")
                                    + "; retry when it answers");
                        }
                        List<String> roles = new ArrayList<>();
                        for (JsonNode role : answer.body()) {
                            roles.add(role.asText());
                        }
                        return new WhoAmI(identity.subject(), identity.name(), identity.kind(), identity.clientId(),
                                identity.groups(), List.copyOf(roles));
                    });
        });
    }
}
