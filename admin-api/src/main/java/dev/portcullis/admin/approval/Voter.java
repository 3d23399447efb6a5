package dev.portcullis.admin.approval;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.portcullis.admin.security.Actor;
import io.quarkus.security.identity.SecurityIdentity;
import java.util.List;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * The approver, as the {@code identity} of a {@code portcullis/approve} input: the same shape, and read from the token
 * the same way, as the gateway's identities (so a policy compares like with like).
 *
 * @param groups the token's {@code groups}
 * @param kind   {@code machine} for a client-credentials token, else {@code human}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Voter(String subject, String name, List<String> groups, String clientId, String kind) {

    public static Voter of(SecurityIdentity identity) {
        Actor actor = Actor.of(identity);
        List<String> groups = identity.getRoles().stream().sorted().toList();
        if (identity.getPrincipal() instanceof JsonWebToken jwt) {
            String clientId = claim(jwt, "client_id");
            String preferred = claim(jwt, "preferred_username");
            boolean machine = clientId != null || preferred != null && preferred.startsWith("service-account-");
            return new Voter(actor.subject(), actor.name(), groups, clientId != null ? clientId : claim(jwt, "azp"),
                    machine ? "machine" : "human");
        }
        return new Voter(actor.subject(), actor.name(), groups, null, "human");
    }

    public Actor actor() {
        return new Actor(subject, name);
    }

    private static String claim(JsonWebToken jwt, String name) {
        Object value = jwt.getClaim(name);
        return value == null || value.toString().isBlank() ? null : value.toString();
    }
}
