package dev.portcullis.gateway.identity;

import io.quarkus.oidc.AccessTokenCredential;
import io.quarkus.oidc.TenantIdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.json.JsonArray;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;

/**
 * Turns the access token a client presents as its password into an {@link Identity}. Quarkus OIDC checks the
 * signature against the issuer's JWKS, the issuer, the audience and the expiry; this class adds the groups
 * claim and translates each failure into a message that says which check failed, never echoing the token.
 */
@ApplicationScoped
public class TokenVerifier {
    private static final Logger LOG = Logger.getLogger(TokenVerifier.class);
    /** Far above any real JWT; keeps a client from making us parse megabytes as a token. */
    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private final TenantIdentityProvider oidc;

    TokenVerifier(TenantIdentityProvider oidc) {
        this.oidc = oidc;
    }

    /** A verified token's identity and when the token expires. */
    public record Verified(Identity identity, java.time.Instant expiresAt) {
    }

    /** Completes with the identity, or exceptionally with {@link TokenRejectedException}. */
    public CompletionStage<Identity> verify(String token) {
        return verifyWithExpiry(token).thenApply(Verified::identity);
    }

    /**
     * Completes with the identity and the token's expiry (for credentials derived from the token, which must not outlive
     * it), or exceptionally with {@link TokenRejectedException}.
     */
    public CompletionStage<Verified> verifyWithExpiry(String token) {
        if (token == null || token.isBlank()) {
            return failed("no access token was given as the password");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            return failed("the access token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        if (token.chars().filter(c -> c == '.').count() != 2) {
            return failed("the password is not an OIDC access token (expected a signed JWT)");
        }
        return oidc.authenticate(new AccessTokenCredential(token))
                .map(id -> new Verified(toIdentity(id), expiry(id)))
                .onFailure(f -> !(f instanceof TokenRejectedException)).transform(TokenVerifier::explain)
                .subscribeAsCompletionStage();
    }

    private static <T> CompletionStage<T> failed(String message) {
        return java.util.concurrent.CompletableFuture.failedFuture(new TokenRejectedException(message));
    }

    static Identity toIdentity(SecurityIdentity securityIdentity) {
        if (!(securityIdentity.getPrincipal() instanceof JsonWebToken jwt)) {
            throw new TokenRejectedException("the access token is not a JWT");
        }
        String subject = jwt.getSubject();
        if (subject == null || subject.isBlank()) {
            throw new TokenRejectedException("the access token has no subject (sub claim)");
        }
        List<String> groups = groups(jwt.getClaim("groups"));
        String preferred = stringClaim(jwt, "preferred_username");
        String clientId = firstNonNull(stringClaim(jwt, "client_id"), stringClaim(jwt, "azp"));
        boolean machine = stringClaim(jwt, "client_id") != null
                || (preferred != null && preferred.startsWith("service-account-"));
        String name = firstNonNull(preferred, stringClaim(jwt, "name"), clientId, subject);
        return new Identity(subject, name, groups, clientId, machine ? Identity.Kind.MACHINE : Identity.Kind.HUMAN);
    }

    private static java.time.Instant expiry(SecurityIdentity securityIdentity) {
        if (!(securityIdentity.getPrincipal() instanceof JsonWebToken jwt) || jwt.getExpirationTime() <= 0) {
            throw new TokenRejectedException("the access token has no expiry (exp claim)");
        }
        return java.time.Instant.ofEpochSecond(jwt.getExpirationTime());
    }

    private static List<String> groups(Object claim) {
        if (claim == null) {
            return List.of();
        }
        List<String> groups = new ArrayList<>();
        if (claim instanceof JsonArray array) {
            for (JsonValue v : array) {
                if (!(v instanceof JsonString s)) {
                    throw new TokenRejectedException("the groups claim must be a list of strings");
                }
                groups.add(s.getString());
            }
        } else if (claim instanceof Collection<?> values) {
            for (Object v : values) {
                if (!(v instanceof String s)) {
                    throw new TokenRejectedException("the groups claim must be a list of strings");
                }
                groups.add(s);
            }
        } else {
            throw new TokenRejectedException("the groups claim must be a list of strings");
        }
        return groups;
    }

    private static String stringClaim(JsonWebToken jwt, String name) {
        Object v = jwt.getClaim(name);
        if (v instanceof JsonString s) {
            return s.getString();
        }
        return v instanceof String s ? s : null;
    }

    @SafeVarargs
    private static <T> T firstNonNull(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    /** Names the check that failed. Messages from the libraries are logged at debug only: they may quote claims. */
    static TokenRejectedException explain(Throwable failure) {
        LOG.debugf(failure, "access token rejected");
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InvalidJwtException jwt) {
                if (jwt.hasExpired()) {
                    return new TokenRejectedException("the access token has expired");
                }
                if (jwt.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || jwt.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
                    return new TokenRejectedException("the access token was not issued for this audience");
                }
                if (jwt.hasErrorCode(ErrorCodes.ISSUER_INVALID) || jwt.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
                    return new TokenRejectedException("the access token was not issued by the trusted issuer");
                }
                if (jwt.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || jwt.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)) {
                    return new TokenRejectedException("the access token signature does not verify against the issuer's keys");
                }
                if (jwt.hasErrorCode(ErrorCodes.NOT_YET_VALID) || jwt.hasErrorCode(ErrorCodes.ISSUED_AT_INVALID_FUTURE)) {
                    return new TokenRejectedException("the access token is not valid yet");
                }
                if (jwt.hasErrorCode(ErrorCodes.MALFORMED_CLAIM) || jwt.hasErrorCode(ErrorCodes.JSON_INVALID)) {
                    return new TokenRejectedException("the access token is malformed");
                }
            }
            String message = t.getMessage();
            if (message != null && message.contains("matching verification key")) {
                return new TokenRejectedException("the access token signature does not verify against the issuer's keys");
            }
            if (t instanceof java.net.ConnectException || (message != null && message.contains("OIDC server is not available"))) {
                return new TokenRejectedException("the OIDC issuer is unreachable, so the access token cannot be verified; try again later");
            }
        }
        return new TokenRejectedException("the access token could not be verified against the trusted issuer");
    }
}
