package dev.portcullis.admin.audit;

import dev.portcullis.admin.Cursor;
import dev.portcullis.admin.QueryParameters;
import dev.portcullis.admin.security.AdminAction;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The audit of admin actions: every change, kill, read of a recording and refused call, and SQL changes of connections. */
@Path("/audit")
@Authenticated
@AdminAction("audit.read")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "audit", description = "The audit of admin actions: changes, kills, reads of recordings, refused calls, and connection changes made in SQL.")
public class AuditResource {
    private final AuditService audit;

    AuditResource(AuditService audit) {
        this.audit = audit;
    }

    @GET
    @Operation(operationId = "listAudit", summary = "Audit entries, newest first, in pages",
            description = "Pass the answer's next as cursor for the next page (null on the last); an entry written"
                    + " meanwhile never shifts a page. A query parameter not listed here is a 400 that names it.")
    @Parameter(name = "actor", in = ParameterIn.QUERY, description = "The actor's subject or name.")
    @Parameter(name = "action", in = ParameterIn.QUERY, description = "The action, for example connection.update,"
            + " session.kill, recording.read, or the admin action a refused call asked for.")
    @Parameter(name = "target", in = ParameterIn.QUERY, description = "What was acted on, for example"
            + " connection/orders-prod or session/<id>.")
    @Parameter(name = "since", in = ParameterIn.QUERY, description = "At or after (RFC 3339).")
    @Parameter(name = "until", in = ParameterIn.QUERY, description = "Before (RFC 3339).")
    @Parameter(name = "limit", in = ParameterIn.QUERY, description = "Entries per page: 1 to 500, default 50.")
    @Parameter(name = "cursor", in = ParameterIn.QUERY, description = "The previous page's next.")
    public Uni<AuditService.Page> list(@Context UriInfo uri) {
        QueryParameters query = QueryParameters.of(uri, "actor", "action", "target", "since", "until", "limit", "cursor");
        return audit.list(new AuditService.Filter(query.text("actor"), query.text("action"), query.text("target"),
                query.time("since"), query.time("until"), Cursor.of(query), query.limit("limit", 50, 500)));
    }
}
