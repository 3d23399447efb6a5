package dev.portcullis.admin.error;

import dev.portcullis.admin.AdminApiConfig;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
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

    SecurityExceptionMappers(AdminApiConfig config) {
        this.config = config;
    }

    @ServerExceptionMapper
    public RestResponse<ApiError> noToken(UnauthorizedException e) {
        return unauthorized("Bearer", "an access token is required: get one from " + config.oidcIssuer()
                + " (client-credentials grant) and send it as 'Authorization: Bearer <token>'");
    }

    @ServerExceptionMapper
    public RestResponse<ApiError> badToken(AuthenticationFailedException e) {
        return unauthorized("Bearer error=\"invalid_token\"", "the access token was rejected (malformed, expired, wrong"
                + " issuer or wrong audience); get a new one from " + config.oidcIssuer());
    }

    /** The issuer cannot be reached, so no token can be verified: fail closed, like a bad token. */
    @ServerExceptionMapper
    public RestResponse<ApiError> issuerUnreachable(OIDCException e) {
        LOG.warnf("refused a request because the OIDC issuer %s is unreachable: %s", config.oidcIssuer(), e.getMessage());
        return unauthorized("Bearer error=\"invalid_token\"", "the access token cannot be verified now because the OIDC"
                + " issuer " + config.oidcIssuer() + " is unreachable; retry when it is back");
    }

    @ServerExceptionMapper
    public RestResponse<ApiError> forbidden(ForbiddenException e) {
        return RestResponse.status(RestResponse.Status.FORBIDDEN, ApiError.of(403, "this needs membership of group '"
                + config.adminGroup() + "' (the token's 'groups' claim); ask a platform admin for access"));
    }

    private static RestResponse<ApiError> unauthorized(String challenge, String message) {
        return RestResponse.ResponseBuilder.create(RestResponse.Status.UNAUTHORIZED, ApiError.of(401, message))
                .header(HttpHeaders.WWW_AUTHENTICATE, challenge)
                .build();
    }
}
