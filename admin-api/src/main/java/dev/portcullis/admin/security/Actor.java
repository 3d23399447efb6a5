package dev.portcullis.admin.security;

import io.quarkus.security.identity.SecurityIdentity;
import org.eclipse.microprofile.jwt.JsonWebToken;

/** Who made an admin request, as recorded in the audit trail. */
public record Actor(String subject, String name) {

    /** Display-name claims, most specific first; client-credentials tokens often carry only the client id. */
    private static final String[] NAME_CLAIMS = {"preferred_username", "name", "client_id", "azp"};

    public static Actor of(SecurityIdentity identity) {
        if (identity.getPrincipal() instanceof JsonWebToken jwt) {
            String subject = jwt.getSubject() != null ? jwt.getSubject() : jwt.getName();
            for (String claim : NAME_CLAIMS) {
                Object value = jwt.getClaim(claim);
                if (value != null && !value.toString().isBlank()) {
                    return new Actor(subject, value.toString());
                }
            }
            return new Actor(subject, subject);
        }
        String name = identity.getPrincipal().getName();
        return new Actor(name, name);
    }
}
