package dev.portcullis.admin.error;

import dev.portcullis.admin.AdminApiConfig;
import dev.portcullis.admin.audit.AuditLog;
import dev.portcullis.admin.security.EndpointAccess;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Says why a request was refused and what to do. Needs {@code quarkus.http.auth.proactive=false}, so that
 * authentication runs inside the REST layer where these mappers apply.
 */
public class SecurityExceptionMappers {
    private static final Logger LOG = Logger.getLogger(SecurityExceptionMappers.class);

    private final AdminApiConfig config;
    private final AuditLog audit;

    SecurityExceptionMappers(AdminApiConfig config, AuditLog audit) {
        this.config = config;
        this.audit = audit;
    }

    @ServerExceptionMapper
    public Uni<RestResponse<String>> noToken(UnauthorizedException e, HttpServerRequest http) {
        return unauthorized(http, "Bearer", "an access token is required: get one from " + config.oidcIssuer()
                + " (client-credentials grant) and send it as 'Authorization: Bearer <token>'");
    }

    @ServerExceptionMapper
    public Uni<RestResponse<String>> badToken(AuthenticationFailedException e, HttpServerRequest http) {
        return unauthorized(http, "Bearer error=\"invalid_token\"", "the access token was rejected (malformed, expired,"
                + " wrong issuer or wrong audience); get a new one from " + config.oidcIssuer());
    }

    /** The issuer cannot be reached, so no token can be verified: fail closed, like a bad token. */
    @ServerExceptionMapper
    public Uni<RestResponse<String>> issuerUnreachable(OIDCException e, HttpServerRequest http) {
        LOG.warnf("refused a request because the OIDC issuer %s is unreachable: %s", config.oidcIssuer(), e.getMessage());
        return unauthorized(http, "Bearer error=\"invalid_token\"", "the access token cannot be verified now because the"
                + " OIDC issuer " + config.oidcIssuer() + " is unreachable; retry when it is back");
    }

    @ServerExceptionMapper
    public RestResponse<String> forbidden(ForbiddenException e) {
        return ApiExceptionMappers.response(Problem.of(403, "your token's groups do not allow this; GET /whoami shows"
                + " your roles, ask a platform admin for access"));
    }

    /** A 401, audited: nobody is known, so the actor is (anonymous). */
    private Uni<RestResponse<String>> unauthorized(HttpServerRequest http, String challenge, String message) {
        RestResponse<String> response = ApiExceptionMappers.builder(Problem.of(401, message))
                .header(HttpHeaders.WWW_AUTHENTICATE, challenge)
                .build();
        return audit.refused("(anonymous)", null, http.method().name(), http.method().name(), http.path(), 401, message,
                EndpointAccess.source(http)).replaceWith(response);
    }
}
