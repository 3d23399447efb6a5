package dev.portcullis.admin.error;

import io.quarkus.security.Authenticated;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** Test only: an endpoint that fails the way a bug would, with a secret in the exception's text. */
@Path("/test-only/failure")
@Authenticated
@dev.portcullis.admin.security.AdminAction("whoami")
public class FailingResource {
    static final String SECRET = "s3cr3t-in-an-exception-message";

    @GET
    @Operation(hidden = true)
    public String fail() {
        throw new IllegalStateException("a bug that knows the password " + SECRET);
    }
}
