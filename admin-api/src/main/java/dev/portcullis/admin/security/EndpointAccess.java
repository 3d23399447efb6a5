package dev.portcullis.admin.security;

import dev.portcullis.admin.AdminApiConfig;
import dev.portcullis.admin.approval.ApprovalsConfig;
import dev.portcullis.admin.error.ApiException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * Who may call the approval and grant endpoints, decided in this one place so that it can move into OPA (where the
 * votes themselves are already decided) by replacing this class. For now: members of {@code portcullis.admin-group}
 * may do everything; members of {@code portcullis.admin.approvals.approver-group} may read held requests and vote.
 * Authentication comes first ({@code @Authenticated} on the resources: no token is a 401).
 */
@ApplicationScoped
public class EndpointAccess {

    /** What an endpoint does, as far as access is concerned. */
    public enum Action {
        READ_APPROVALS(true),
        VOTE(true),
        READ_GRANTS(false),
        REVOKE_GRANTS(false);

        private final boolean forApprovers;

        Action(boolean forApprovers) {
            this.forApprovers = forApprovers;
        }
    }

    private final AdminApiConfig admin;
    private final ApprovalsConfig approvals;

    EndpointAccess(AdminApiConfig admin, ApprovalsConfig approvals) {
        this.admin = admin;
        this.approvals = approvals;
    }

    /** @throws ApiException 403, naming the groups that would do, unless the caller may */
    public void require(SecurityIdentity caller, Action action) {
        if (caller.hasRole(admin.adminGroup()) || action.forApprovers && caller.hasRole(approvals.approverGroup())) {
            return;
        }
        List<String> groups = action.forApprovers ? List.of(admin.adminGroup(), approvals.approverGroup())
                : List.of(admin.adminGroup());
        throw new ApiException(403, "this needs membership of group '" + String.join("' or '", groups)
                + "' (the token's 'groups' claim); ask a platform admin for access");
    }
}
