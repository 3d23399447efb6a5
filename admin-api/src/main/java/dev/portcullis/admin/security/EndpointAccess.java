package dev.portcullis.admin.security;

import dev.portcullis.admin.approval.Voter;
import dev.portcullis.admin.audit.AuditLog;
import dev.portcullis.admin.error.ApiException;
import dev.portcullis.admin.policy.PolicyClient;
import dev.portcullis.admin.policy.PolicyDecision;
import io.quarkus.security.UnauthorizedException;
import io.quarkus.security.identity.CurrentIdentityAssociation;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.UriInfo;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The one place that decides whether a caller may call an endpoint: it asks OPA ({@code portcullis/admin}) with the
 * caller's identity and the endpoint's {@link AdminAction}, before the endpoint runs. No token is a 401; a refusal is a
 * 403 with the policy's reason (which names the groups that would do); no answer from OPA is a 503: nothing is allowed
 * while the policy engine cannot decide. Which group may do what lives in the policy's data, not here.
 */
@ApplicationScoped
public class EndpointAccess {
    public static final String ENTRY = "admin";
    /** Actions on one session that an approver may take on a session they are asked about. */
    private static final Set<String> SESSION_ACTIONS = Set.of("sessions.read", "recordings.read");

    private final PolicyClient policy;
    private final CurrentIdentityAssociation identities;
    private final Pool db;
    private final AuditLog audit;

    EndpointAccess(PolicyClient policy, CurrentIdentityAssociation identities, Pool db, AuditLog audit) {
        this.policy = policy;
        this.identities = identities;
        this.db = db;
        this.audit = audit;
    }

    /** The admin policy's input: who asks to do what, on which session if the action is about one. */
    public record Input(int contract, Voter identity, String action, Resource resource) {
    }

    /** @param approverGroups the approver groups of the held requests of the session */
    public record Resource(String sessionId, List<String> approverGroups) {
    }

    @ServerRequestFilter(priority = Priorities.AUTHORIZATION)
    public Uni<Void> authorize(ResourceInfo endpoint, UriInfo uri, HttpServerRequest http) {
        String action = actionOf(endpoint.getResourceMethod(), endpoint.getResourceClass());
        return identities.getDeferredIdentity().chain(caller -> {
            if (caller.isAnonymous()) {
                throw new UnauthorizedException();
            }
            Voter who = Voter.of(caller);
            Uni<PolicyDecision> decision = action == null
                    ? Uni.createFrom().item(new PolicyDecision(false, List.of("this endpoint declares no action for the"
                            + " admin policy, so nobody may call it"), "admin-api/no-action", null))
                    : resource(action, uri.getPathParameters().getFirst("id"))
                            .chain(resource -> policy.decide(ENTRY, new Input(2, who, action, resource)));
            return decision.chain(d -> {
                ApiException refusal = refusal(d);
                if (refusal == null) {
                    return Uni.createFrom().voidItem();
                }
                return audit.refused(who.subject(), who.name(), action == null ? http.method().name() : action,
                                http.method().name(), http.path(), refusal.status(), refusal.getMessage(), source(http))
                        .onItem().failWith(() -> refusal);
            });
        });
    }

    /** The client's address, for the audit. */
    public static String source(HttpServerRequest http) {
        return http.remoteAddress() == null ? null : http.remoteAddress().hostAddress();
    }

    /** The caller, authenticated: for endpoints that need it (whoami). */
    public Uni<SecurityIdentity> caller() {
        return identities.getDeferredIdentity();
    }

    /** @return the error that refuses the call, or null if the decision allows it */
    private static ApiException refusal(PolicyDecision decision) {
        if (!decision.answered()) {
            return new ApiException(503, "nothing is allowed while the policy engine cannot decide: " + decision.problem()
                    + "; retry when it answers");
        }
        if (!decision.allowed()) {
            return new ApiException(403, String.join("; ", decision.reasons()) + " [policy " + decision.policy() + "]");
        }
        return null;
    }

    /** For an action on one session, its held requests' approver groups: an approver may read what they are asked about. */
    private Uni<Resource> resource(String action, String id) {
        UUID sessionId = uuidOrNull(id);
        if (!SESSION_ACTIONS.contains(action) || sessionId == null) {
            return Uni.createFrom().nullItem();
        }
        return db.preparedQuery("SELECT DISTINCT g FROM approval_requests r, jsonb_array_elements_text(r.approver_groups) g"
                        + " WHERE r.session_id = $1 ORDER BY g")
                .execute(Tuple.of(sessionId))
                .map(rows -> {
                    List<String> groups = new ArrayList<>();
                    for (Row row : rows) {
                        groups.add(row.getString(0));
                    }
                    return new Resource(sessionId.toString(), List.copyOf(groups));
                });
    }

    private static String actionOf(Method method, Class<?> type) {
        AdminAction onMethod = method == null ? null : method.getAnnotation(AdminAction.class);
        if (onMethod != null) {
            return onMethod.value();
        }
        AdminAction onType = type == null ? null : type.getAnnotation(AdminAction.class);
        return onType == null ? null : onType.value();
    }

    private static UUID uuidOrNull(String id) {
        try {
            return id != null && id.length() == 36 ? UUID.fromString(id) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
