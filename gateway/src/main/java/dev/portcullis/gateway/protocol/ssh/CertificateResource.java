package dev.portcullis.gateway.protocol.ssh;

import dev.portcullis.gateway.identity.TokenRejectedException;
import dev.portcullis.gateway.identity.TokenVerifier;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.jboss.logging.Logger;

/**
 * {@code POST /ssh/certificates}: an identity with a valid OIDC access token (bearer) sends a public key and gets back
 * an OpenSSH user certificate for it from the gateway's CA, valid no longer than the token (and at most
 * {@code portcullis.ssh.max-certificate-validity}). {@code dev-services/stack ssh-login NAME} is its client.
 */
@Path("/ssh/certificates")
public class CertificateResource {
    private static final Logger LOG = Logger.getLogger(CertificateResource.class);

    private final TokenVerifier tokens;
    private final SshEngine engine;

    CertificateResource(TokenVerifier tokens, SshEngine engine) {
        this.tokens = tokens;
        this.engine = engine;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.TEXT_PLAIN)
    public CompletionStage<Response> sign(@HeaderParam("Authorization") String authorization, InputStream body) {
        UserCertificates certificates = engine.certificates();
        if (certificates == null) {
            return done(Response.Status.NOT_FOUND, "this gateway does not serve SSH (portcullis.ssh.enabled=false)");
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return done(Response.Status.UNAUTHORIZED, "send your OIDC access token as Authorization: Bearer <token>");
        }
        String publicKey;
        try {
            publicKey = readBounded(body);
        } catch (IOException e) {
            return done(Response.Status.BAD_REQUEST, e.getMessage());
        }
        return tokens.verifyWithExpiry(authorization.substring(7).trim()).thenApply(verified -> {
            String certificate = certificates.sign(publicKey, verified.identity(), verified.expiresAt());
            LOG.infof("SSH certificate issued to %s (subject %s) until at most %s", verified.identity().name(),
                    verified.identity().subject(), verified.expiresAt());
            return Response.ok(certificate + "\n").build();
        }).exceptionally(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof TokenRejectedException rejected) {
                return text(Response.Status.UNAUTHORIZED, "Portcullis authentication failed: " + rejected.getMessage());
            }
            if (cause instanceof UserCertificates.Refused refused) {
                return text(Response.Status.BAD_REQUEST, refused.getMessage());
            }
            LOG.errorf(cause, "signing an SSH certificate failed");
            return text(Response.Status.INTERNAL_SERVER_ERROR, "Portcullis could not sign the certificate (internal error); try again later");
        });
    }

    /** The body, refused past {@link UserCertificates#MAX_PUBLIC_KEY_CHARS} before more of it is read. */
    private static String readBounded(InputStream body) throws IOException {
        if (body == null) {
            return "";
        }
        byte[] bytes = body.readNBytes(UserCertificates.MAX_PUBLIC_KEY_CHARS + 1);
        if (bytes.length > UserCertificates.MAX_PUBLIC_KEY_CHARS) {
            throw new IOException("the public key is longer than " + UserCertificates.MAX_PUBLIC_KEY_CHARS + " bytes");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static CompletionStage<Response> done(Response.Status status, String message) {
        return CompletableFuture.completedFuture(text(status, message));
    }

    private static Response text(Response.Status status, String message) {
        return Response.status(status).type(MediaType.TEXT_PLAIN).entity(message + "\n").build();
    }
}
